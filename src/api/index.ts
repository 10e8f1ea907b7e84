export { buildApi, startApi, type ApiOptions } from './server.js';
export { ApiError } from './tasks.js';
