/**
 * The OpenTelemetry resource every span and metric goes out with, built from the validated
 * settings (which already hold `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`).
 */
import * as Resource from "@effect/opentelemetry/Resource"
import { defaultResource, type Resource as OtelResource, resourceFromAttributes } from "@opentelemetry/resources"
import * as Layer from "effect/Layer"
import type { Settings } from "./config.ts"
import {
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_TELEMETRY_DISTRO_NAME,
  ATTR_TELEMETRY_DISTRO_VERSION,
  LIBRARY_NAME
} from "./semconv.ts"
import { version } from "./version.ts"

/**
 * The SDK's default resource names the SDK (`telemetry.sdk.*`) and the process; ours names the
 * service and this library as the distribution.
 */
export const make = (
  settings: Pick<Settings, "serviceName" | "serviceVersion" | "resourceAttributes">
): OtelResource =>
  defaultResource().merge(resourceFromAttributes({
    [ATTR_TELEMETRY_DISTRO_NAME]: LIBRARY_NAME,
    [ATTR_TELEMETRY_DISTRO_VERSION]: version,
    ...settings.resourceAttributes,
    [ATTR_SERVICE_NAME]: settings.serviceName,
    ...(settings.serviceVersion !== undefined ? { [ATTR_SERVICE_VERSION]: settings.serviceVersion } : {})
  }))

/** The resource as the service the tracer provider and the metrics read it from. */
export const layer = (
  settings: Pick<Settings, "serviceName" | "serviceVersion" | "resourceAttributes">
): Layer.Layer<Resource.Resource> => Layer.succeed(Resource.Resource, make(settings))
