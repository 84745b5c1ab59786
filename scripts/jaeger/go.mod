// Build-only wrapper so `go build` can produce Jaeger v2 (cmd/jaeger) from the
// Go module proxy. Not part of the TypeScript library; used by scripts/jaeger.sh.
module beluga-o11y/scripts/jaeger

go 1.24.6

tool github.com/jaegertracing/jaeger/cmd/jaeger

require github.com/jaegertracing/jaeger v1.76.0

// Repeated from Jaeger's own go.mod (replace directives only apply in the main module).
replace github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0
