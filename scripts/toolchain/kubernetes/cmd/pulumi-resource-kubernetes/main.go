// The Kubernetes provider's entry point, as upstream's cmd/pulumi-resource-kubernetes has it. It is
// the wrapper's own package because go:embed reads files beside it, and the two below are generated
// when it is built (scripts/toolchain.sh, ensure_kubernetes_provider): the module's schema.json
// with the version stamped in, and its terraform-mapping.json, which `pulumi convert` from
// Terraform asks for.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() { provider.Serve("kubernetes", version.Version, schema, terraformMapping) }
