// `validated`: blocking checks over canonical prices and load, each returning a typed report.
export { validatePrices, freshnessCheck, type PriceValidationOptions, type ExpectedCoverage } from './prices.ts';
export { validateLoad, type LoadValidationOptions } from './load.ts';
export { makeReport, describeFailures, type CheckResult, type ValidationReport, type Severity } from './report.ts';
