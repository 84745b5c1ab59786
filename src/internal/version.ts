/** This library's version, as reported in `telemetry.distro.version`. Keep in step with package.json. */
export const version = "0.1.0"
