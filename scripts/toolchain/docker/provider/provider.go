package provider

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// Info maps the Terraform docker provider (its SDKv2 resources) onto the Pulumi package "docker".
func Info(version string, metadata []byte) tfbridge.ProviderInfo {
	res := func(name string) *tfbridge.ResourceInfo {
		return &tfbridge.ResourceInfo{Tok: tfbridge.MakeResource("docker", "index", name)}
	}
	ds := func(name string) *tfbridge.DataSourceInfo {
		return &tfbridge.DataSourceInfo{Tok: tfbridge.MakeDataSource("docker", "index", name)}
	}
	container := res("Container")
	container.DeleteBeforeReplace = true
	container.Fields = map[string]*tfbridge.SchemaInfo{
		"command":           {Name: "command"},          // one command, not a plural
		"networks_advanced": {Name: "networksAdvanced"}, // not pluralised in the SDK
	}
	remoteImage := res("RemoteImage")
	remoteImage.Fields = map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}}

	info := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(shim.NewProvider(version)),
		Name:         "docker",
		Version:      version,
		Description:  "A Pulumi package for interacting with Docker in Pulumi programs",
		License:      "Apache-2.0",
		Repository:   "https://github.com/pulumi/pulumi-docker",
		GitHubOrg:    "kreuzwerker",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Config: map[string]*tfbridge.SchemaInfo{
			"host":          {Default: &tfbridge.DefaultInfo{Value: "unix:///var/run/docker.sock", EnvVars: []string{"DOCKER_HOST"}}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_buildx_builder": res("BuildxBuilder"),
			"docker_config":         res("ServiceConfig"),
			"docker_container":      container,
			"docker_image":          remoteImage,
			"docker_network":        res("Network"),
			"docker_plugin":         res("Plugin"),
			"docker_registry_image": res("RegistryImage"),
			"docker_secret":         res("Secret"),
			"docker_service":        res("Service"),
			"docker_tag":            res("Tag"),
			"docker_volume":         res("Volume"),
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image":                    ds("getRemoteImage"),
			"docker_logs":                     ds("getLogs"),
			"docker_network":                  ds("getNetwork"),
			"docker_plugin":                   ds("getPlugin"),
			"docker_registry_image":           ds("getRegistryImage"),
			"docker_registry_image_manifests": ds("getRegistryImageManifests"),
		},
		JavaScript: &tfbridge.JavaScriptInfo{},
	}
	info.SetAutonaming(255, "-")
	return info
}
