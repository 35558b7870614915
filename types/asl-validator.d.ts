declare module 'asl-validator' {
  interface Result {
    isValid: boolean;
    errors: Array<Record<string, unknown>>;
  }
  export default function aslValidator(
    definition: unknown,
    options?: { checkArn?: boolean; checkPaths?: boolean },
  ): Result;
}
