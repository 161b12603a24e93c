"""
The Python SDK check of scripts/sdks.sh: imports the SDK generated from provider/schema.json,
builds its argument classes, and declares each component with Pulumi's mocks (no engine, no
provider), recording what the SDK sends the engine. It fails on the first fact that differs, and
writes what it recorded as JSON to the file named by its only argument:

    python check.py RECORD.json
"""

import json
import sys

from google.protobuf import json_format
import pulumi
from pulumi.runtime import mocks, rpc

import pulumi_authenticated_registry as ar

record_path = sys.argv[1]


def wire(value):
    """A property as the SDK serialized it for the engine, as JSON: a secret, whether the old
    secret form or an output value marked secret, as {"secret": VALUE}."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return {"secret": wire(value["value"])}
        if sig == rpc._special_output_value_sig:
            known = wire(value["value"]) if "value" in value else "<unknown>"
            return {"secret": known} if value.get("secret") else known
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


# The argument classes, as a program writes them: each user with its grants, enums for actions.
alice = ar.RegistryUserArgs(
    username="alice",
    password=pulumi.Output.secret("from-config"),
    access=[
        ar.AccessGrantArgs(repositories=["team-a/**"], actions=[ar.AccessAction.PULL, ar.AccessAction.PUSH]),
        ar.AccessGrantArgs(repositories=["base/*"], actions=[ar.AccessAction.PULL]),
    ],
    catalog=True,
)
args = ar.AuthenticatedRegistryArgs(
    domain="registry.internal",
    port=35043,
    container=ar.ContainerRuntimeArgs(bind_address="127.0.0.1"),
    # A user as a dictionary (the generated TypedDicts), with no password: the component makes one.
    users=[{"username": "ci"}, alice],
    auth=ar.RegistryAuthArgs(mode=ar.AuthMode.TOKEN, token_lifetime_seconds=300),
)
assert args.domain == "registry.internal", args.domain
assert args.users[1].access[0].actions == ["pull", "push"], args.users[1].access[0].actions
assert args.users[1].access[0].repositories == ["team-a/**"]
assert args.auth.mode == "token"
assert ar.AccessAction.DELETE.value == "delete"


class Monitor(mocks.MockMonitor):
    """The mocks' resource monitor, which also records what each registration sends. Unlike the
    mocks' own, it takes output values, as the engine does: the SDK then sends an input that holds
    an output (a secret password in a user) as the engine gets it, in place."""

    def __init__(self, answers):
        super().__init__(answers)
        self.registrations = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations[request.name] = {
                "type": request.type,
                "remote": request.remote,
                "custom": request.custom,
                "inputs": wire(json_format.MessageToDict(request.object)),
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
            }
        return response

    def SupportsFeature(self, request):
        return type("SupportsFeatureResponse", (object,), {"hasSupport": True})


class Answers(pulumi.runtime.Mocks):
    """No outputs: the mocks cannot run the provider, and nothing here reads them."""

    def new_resource(self, args):
        return [f"{args.name}-id", {}]

    def call(self, args):
        return {}


monitor = Monitor(Answers())
pulumi.runtime.set_mocks(Answers(), preview=False, monitor=monitor)


@pulumi.runtime.test
def declare():
    registry = ar.AuthenticatedRegistry("shared", args)
    # A plain string for a secret input: the SDK makes it a secret before it leaves the program.
    tls = ar.TlsMaterial("supplied", domain="registry.internal", mode=ar.TlsMode.SUPPLIED,
                         certificate_pem="CERT", private_key_pem="KEY", ca_certificate_pem="CA")
    credentials = ar.HtpasswdCredentials("credentials", users=[ar.HtpasswdUserArgs(username="ci")])
    return pulumi.Output.all(registry.urn, tls.urn, credentials.urn)


declare()

registrations = monitor.registrations
shared, supplied, credentials = registrations["shared"], registrations["supplied"], registrations["credentials"]
assert shared["type"] == "authenticated-registry:index:AuthenticatedRegistry", shared
assert shared["remote"] and not shared["custom"], shared
assert shared["additionalSecretOutputs"] == ["htpasswd", "passwords"], shared
assert shared["inputs"]["domain"] == "registry.internal", shared
assert shared["inputs"]["users"][0] == {"username": "ci"}, shared
assert shared["inputs"]["users"][1]["access"][0] == {"repositories": ["team-a/**"], "actions": ["pull", "push"]}, shared
assert shared["inputs"]["users"][1]["password"] == {"secret": "from-config"}, shared
assert shared["inputs"]["auth"] == {"mode": "token", "tokenLifetimeSeconds": 300}, shared
assert supplied["additionalSecretOutputs"] == ["privateKeyPem"], supplied
assert supplied["inputs"]["privateKeyPem"] == {"secret": "KEY"}, supplied
assert supplied["inputs"]["certificatePem"] == "CERT", supplied
assert credentials["additionalSecretOutputs"] == ["htpasswd", "passwordHashes", "passwords"], credentials

with open(record_path, "w", encoding="utf-8") as f:
    json.dump({"module": ar.__name__, "registrations": registrations}, f, indent=2, sort_keys=True)
print(f"{ar.__name__}: {len(registrations)} components declared with mocks, as expected")
