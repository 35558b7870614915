import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

/**
 * What must outlive every deployment: the single DynamoDB table behind the Store (audit trail,
 * operations, approvals, baselines, API keys). Retained on stack deletion, protected against
 * deletion, recoverable to any second of the last 35 days.
 */
export class StatefulStack extends Stack {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'cloudops-mcp state: the DynamoDB table of the Store', ...props });
    this.table = new Table(this, 'Table', {
      // The key shape shared/adapters/aws/dynamodb-store.ts reads and writes.
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }
}
