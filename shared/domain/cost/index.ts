export * from './allocation.ts';
export * from './prices.ts';
export * from './quantity.ts';
