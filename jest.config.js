/**
 * Jest runs the TypeScript sources as native ES modules (NestJS 12 ships ESM only),
 * so it must be started with NODE_OPTIONS=--experimental-vm-modules (see package.json).
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }],
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/log-capture.ts', '<rootDir>/test/support/secrets-guard.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
