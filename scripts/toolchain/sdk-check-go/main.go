// A Pulumi Go program on the Go SDK that scripts/sdks.sh generates from provider/schema.json:
// scripts/sdks.sh builds and vets it against the generated code (go.mod's replace), which proves
// that the SDK compiles with sdk/v3 at the CLI's version and that its types take a registry's
// users, grants and settings as the schema describes them. It is never run.
package main

import (
	ar "example.com/pulumi-authenticated-registry/sdk/go/authenticatedregistry"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		token := ar.AuthModeToken
		registry, err := ar.NewAuthenticatedRegistry(ctx, "shared", &ar.AuthenticatedRegistryArgs{
			Domain: "registry.internal",
			Port:   pulumi.Float64Ref(35043),
			Container: &ar.ContainerRuntimeArgs{
				BindAddress: pulumi.StringRef("127.0.0.1"),
			},
			Users: []ar.RegistryUserArgs{
				// No password: the component generates one (Passwords, a secret output).
				{Username: "ci"},
				{
					Username: "alice",
					Password: pulumi.ToSecret(pulumi.String("from-config")).(pulumi.StringOutput),
					Access: []ar.AccessGrantArgs{
						{Repositories: []string{"team-a/**"}, Actions: []ar.AccessAction{ar.AccessActionPull, ar.AccessActionPush}},
						{Repositories: []string{"base/*"}, Actions: []ar.AccessAction{ar.AccessActionPull}},
					},
					Catalog: pulumi.BoolRef(true),
				},
			},
			Auth: &ar.RegistryAuthArgs{Mode: &token, TokenLifetimeSeconds: pulumi.Float64Ref(300)},
		})
		if err != nil {
			return err
		}
		ctx.Export("url", registry.Url)
		ctx.Export("htpasswd", registry.Htpasswd)
		ctx.Export("passwords", registry.Passwords)
		return nil
	})
}
