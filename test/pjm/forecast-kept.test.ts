// pjm/forecast keeps its forecast and pjm/forecast_score scores it, on the default SQLite
// store under one DATA_DIR (the story: helpers/forecast-kept-story.ts).
import { test } from 'uvu';
import { tempDir } from '../support/tmp.ts';
import { forecastKeptStory } from './helpers/forecast-kept-story.ts';

const dataDir = tempDir('forecast-kept');
forecastKeptStory(test, async () => ({ dataDir }));

test.run();
