/**
 * The Node binary that runs the user's programs in integration tests: GRIDLOCK_TEST_NODE when set
 * (Node 24 from scripts/withNode24.mjs), else the Node running the tests.
 */
export const testNode: string = process.env.GRIDLOCK_TEST_NODE || process.execPath;
