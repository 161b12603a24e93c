package provider

import (
	"context"
	"fmt"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Info maps the Terraform random provider onto the Pulumi package "random": random_foo -> random:index/randomFoo:RandomFoo.
func Info(version string, metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(shim.NewProvider()),
		Name:         "random",
		Version:      version,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs.",
		License:      "Apache-2.0",
		Repository:   "https://github.com/pulumi/pulumi-random",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			// Old RandomString states can lack a schema version; treat them as version 1.
			"random_string": {PreStateUpgradeHook: func(a tfbridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
				if a.PriorStateSchemaVersion == 0 {
					return 1, a.PriorState, nil
				}
				return a.PriorStateSchemaVersion, a.PriorState, nil
			}},
			// random_bytes has no id attribute: its id is its base64 value.
			"random_bytes": {ComputeID: func(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
				v, ok := state["base64"]
				if !ok {
					return "", fmt.Errorf("random_bytes: no base64 in state")
				}
				if v.IsSecret() {
					v = v.SecretValue().Element
				}
				if !v.IsString() {
					return "", fmt.Errorf("random_bytes: base64 is not a string")
				}
				return resource.ID(v.StringValue()), nil
			}},
		},
		JavaScript:                  &tfbridge.JavaScriptInfo{RespectSchemaVersion: true},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	std := tokens.MakeStandard("random")
	info.MustComputeTokens(tokens.SingleModule("random_", "index", func(module, name string) (string, error) {
		return std(module, "Random"+name)
	}))
	info.MustApplyAutoAliases()
	return info
}
