// @herdless/cli's entry for the test suites: what they reuse of the lab's process wiring (the
// production commands run from the bundle, not from here).
export { startAwsEndpointProcess, AwsEndpointProcessError, ENDPOINT_NICE, type LabAwsEndpoint } from './lab/aws-endpoint-process.js';
export { FleetObserver, type FleetRecord } from './lab/fleet-observer.js';
