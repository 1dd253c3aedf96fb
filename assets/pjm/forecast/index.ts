// Public surface of the forecast step: one node and day (`/predict`), or the latest day of every node.
export {
  forecastDay,
  QUANTILE_COLUMNS,
  latestForecast,
  writeForecastParquet,
  type DayForecast,
  type DayForecastResult,
  type ForecastDayOptions,
  type ForecastRow,
  type LatestForecastOptions,
  type LatestForecastResult,
} from './forecast.ts';
export { realHoursOfDay, type RealHour } from './grid-hours.ts';
