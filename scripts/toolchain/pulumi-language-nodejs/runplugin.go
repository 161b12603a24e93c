// RunPlugin for the v3.68.0 Node.js language host, whose own RunPlugin only answers "not supported".
// scripts/toolchain.sh builds the host from sdk/v3 v3.68.0's package sources with that stub taken out
// and this file added. Engines since then start Node.js policy packs (and Node.js plugins) through
// RunPlugin, so without it `pulumi up --policy-pack DIR` fails.
//
// The engine says where the plugin is and what kind it is in RunPluginRequest fields that v3.68.0's
// protocol does not have yet (info = 5, a ProgramInfo whose program_directory = 2; kind = 6). They
// arrive as unknown fields and are read from there.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/encoding/protowire"
)

func (host *nodeLanguageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	dir, kind := pluginDirAndKind(req)
	if dir == "" {
		dir = req.GetProgram()
	}
	if dir == "" {
		return errors.New("RunPlugin: the request names no plugin directory")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("RunPlugin: node is not on PATH: %w", err)
	}

	// A policy pack runs @pulumi/pulumi's run-policy-pack with the engine's arguments and then its own
	// directory, in that directory (as the pulumi-analyzer-policy launcher did); any other plugin runs
	// run-plugin with its directory first, in the engine's working directory.
	analyzer := kind == "analyzer"
	script, workDir := "@pulumi/pulumi/cmd/run-plugin", req.GetPwd()
	if analyzer {
		script, workDir = "@pulumi/pulumi/cmd/run-policy-pack", dir
	}
	resolve := exec.Command(node, "-e", "console.log(require.resolve(process.argv[1]))", script)
	resolve.Dir = dir
	out, err := resolve.Output()
	if err != nil {
		return fmt.Errorf("RunPlugin: cannot find %s from %s (are its node_modules installed?): %w", script, dir, err)
	}
	args := []string{strings.TrimSpace(string(out))}
	if analyzer {
		args = append(append(args, req.GetArgs()...), dir)
	} else {
		args = append(append(args, dir), req.GetArgs()...)
	}

	cmd := exec.CommandContext(server.Context(), node, args...)
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	if host.typescript {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if host.tsconfigpath != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+host.tsconfigpath)
	}
	var mu sync.Mutex // gRPC streams take one Send at a time; stdout and stderr are copied concurrently
	cmd.Stdout = streamWriter{&mu, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	}, server}
	cmd.Stderr = streamWriter{&mu, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}, server}

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("plugin %s exited with code %d", dir, exitErr.ExitCode())
		}
		return fmt.Errorf("could not run node for plugin %s: %w", dir, err)
	}
	return nil
}

type streamWriter struct {
	mu     *sync.Mutex
	wrap   func([]byte) *pulumirpc.RunPluginResponse
	server pulumirpc.LanguageRuntime_RunPluginServer
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.server.Send(w.wrap(append([]byte(nil), p...))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// pluginDirAndKind reads RunPluginRequest.info.program_directory and RunPluginRequest.kind from the
// request's unknown fields.
func pluginDirAndKind(req *pulumirpc.RunPluginRequest) (dir, kind string) {
	b := req.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return dir, kind
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return dir, kind
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return dir, kind
		}
		b = b[n:]
		switch num {
		case 5:
			dir = stringField(v, 2)
		case 6:
			kind = string(v)
		}
	}
	return dir, kind
}

// stringField returns field number want of an encoded message, if it is a string.
func stringField(msg []byte, want protowire.Number) string {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return ""
		}
		msg = msg[n:]
		if num == want && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(msg)
			return string(v)
		}
		if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
			return ""
		}
		msg = msg[n:]
	}
	return ""
}
