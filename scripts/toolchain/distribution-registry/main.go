// The registry of distribution v3.1.2 with the storage drivers this package configures:
// upstream's cmd/registry/main.go without its azure and gcs drivers, whose SDKs (the Google
// Cloud client, gRPC's xDS, Azure's) are a third of its packages and a third of its cold build.
// Everything else is upstream's: the auth modules, the proxy (pull-through mirrors), the
// filesystem, in-memory and S3 drivers and the storage middleware, so that a config of this
// package behaves as it would on the official image.
package main

import (
	_ "net/http/pprof"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/silly"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/proxy"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/middleware/cloudfront"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/middleware/redirect"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/middleware/rewrite"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/s3-aws"
)

func main() {
	// As upstream: the commands report their own errors and exit non-zero.
	// nolint:errcheck
	registry.RootCmd.Execute()
}
