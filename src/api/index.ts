export { codecServer, type CodecServerOptions } from './codec-server.js';
export { ApiError } from './errors.js';
export { buildApi, onceflowApi, startApi, type ApiOptions } from './server.js';
