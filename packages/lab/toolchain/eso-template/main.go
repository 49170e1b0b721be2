// Build tool output only: ESO v0.20.4's own template engine v2 and its data-shaping steps
// (rewrite, key conversion, key validation, decoding), compiled to WebAssembly (GOOS=wasip1,
// -buildmode=c-shared) so the worker renders byte for byte as ESO does. Never product code on
// its own: the worker loads the module built from this file and calls `herdless_call`.
//
// One call = one JSON request in, one JSON reply out, through linear memory:
// the host calls herdless_alloc(n), writes the request there, calls herdless_call(ptr, n) and
// reads the reply at (result >> 32, result & 0xffffffff). The module never touches the network
// or the file system (ESO's getSecretKey fails: it has no cluster to read from, by design).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"unsafe"

	"github.com/go-logr/logr"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	"github.com/external-secrets/external-secrets/pkg/controllers/templating"
	"github.com/external-secrets/external-secrets/pkg/esutils"
	"github.com/external-secrets/external-secrets/pkg/template"
)

type request struct {
	Op string `json:"op"`

	// op "template": ESO's ApplyTemplate from "the template is set" on.
	Namespace  string                       `json:"namespace"`
	Template   *esv1.ExternalSecretTemplate `json:"template"`
	Data       map[string][]byte            `json:"data"`
	ConfigMaps map[string]map[string]string `json:"configMaps"`
	Secrets    map[string]map[string][]byte `json:"secrets"`

	// op "dataFrom": what ESO does to one dataFrom entry's map after the provider returned it.
	Rewrite            []esv1.ExternalSecretRewrite           `json:"rewrite"`
	ConversionStrategy esv1.ExternalSecretConversionStrategy `json:"conversionStrategy"`
	DecodingStrategy   esv1.ExternalSecretDecodingStrategy   `json:"decodingStrategy"`
	// op "decode": one data[] value.
	Value []byte `json:"value"`
}

type reply struct {
	Error       string            `json:"error,omitempty"`
	Type        string            `json:"type,omitempty"`
	Data        map[string][]byte `json:"data,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Value       []byte            `json:"value,omitempty"`
}

// sourceClient serves the templateFrom ConfigMaps and Secrets the host read from the
// ExternalSecret's own namespace; anything else is NotFound, as the API server would say.
type sourceClient struct {
	client.Client
	req *request
}

func (c sourceClient) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		if data, ok := c.req.ConfigMaps[key.Name]; ok && key.Namespace == c.req.Namespace {
			o.Data = data
			return nil
		}
		return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
	case *corev1.Secret:
		if data, ok := c.req.Secrets[key.Name]; ok && key.Namespace == c.req.Namespace {
			o.Data = data
			return nil
		}
		return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
	}
	return fmt.Errorf("unsupported object %T", obj)
}

// applyTemplate follows ESO's Reconciler.ApplyTemplate (pkg/controllers/externalsecret,
// v0.20.4) for a new Secret with a template: metadata copied, data from the provider kept only
// with mergePolicy Merge or no data template, then templateFrom, data, labels, annotations.
// Error texts are ESO's (errFetchTplFrom, errExecTpl).
func applyTemplate(req *request) reply {
	tpl := req.Template
	secret := &corev1.Secret{Data: map[string][]byte{}}
	secret.Labels = maps.Clone(tpl.Metadata.Labels)
	secret.Annotations = maps.Clone(tpl.Metadata.Annotations)
	if secret.Labels == nil {
		secret.Labels = map[string]string{}
	}
	if secret.Annotations == nil {
		secret.Annotations = map[string]string{}
	}
	if tpl.Type != "" {
		secret.Type = tpl.Type
	}
	noTemplate := len(tpl.Data) == 0 && len(tpl.TemplateFrom) == 0
	if tpl.MergePolicy == esv1.MergePolicyMerge || noTemplate {
		maps.Insert(secret.Data, maps.All(req.Data))
	}
	execute, err := template.EngineForVersion(tpl.EngineVersion)
	if err != nil {
		return reply{Error: err.Error()}
	}
	p := templating.Parser{Client: sourceClient{req: req}, TargetSecret: secret, DataMap: req.Data, Exec: execute}
	ctx := context.Background()
	if err := p.MergeTemplateFrom(ctx, req.Namespace, tpl); err != nil {
		return reply{Error: fmt.Sprintf("error fetching templateFrom data: %v", err)}
	}
	if err := p.MergeMap(tpl.Data, esv1.TemplateTargetData); err != nil {
		return reply{Error: fmt.Sprintf("could not execute template: %v", err)}
	}
	if err := p.MergeMap(tpl.Metadata.Labels, esv1.TemplateTargetLabels); err != nil {
		return reply{Error: fmt.Sprintf("could not execute template: %v", err)}
	}
	if err := p.MergeMap(tpl.Metadata.Annotations, esv1.TemplateTargetAnnotations); err != nil {
		return reply{Error: fmt.Sprintf("could not execute template: %v", err)}
	}
	return reply{Type: string(secret.Type), Data: secret.Data, Labels: secret.Labels, Annotations: secret.Annotations}
}

// shapeDataFrom follows ESO's handleExtractSecrets / handleFindAllSecrets after the provider
// call: rewrite, key conversion only without rewrite, key validation, decoding.
func shapeDataFrom(req *request) reply {
	m, err := esutils.RewriteMap(req.Rewrite, req.Data)
	if err != nil {
		return reply{Error: fmt.Sprintf("error applying rewrite to keys: %v", err)}
	}
	if len(req.Rewrite) == 0 {
		m, err = esutils.ConvertKeys(req.ConversionStrategy, m)
		if err != nil {
			return reply{Error: fmt.Sprintf("error applying conversion strategy %s to keys: %v", req.ConversionStrategy, err)}
		}
	}
	if err := esutils.ValidateKeys(logr.Discard(), m); err != nil {
		return reply{Error: fmt.Sprintf("invalid secret keys (TIP: use rewrite or conversionStrategy to change keys): %v", err)}
	}
	m, err = esutils.DecodeMap(req.DecodingStrategy, m)
	if err != nil {
		return reply{Error: fmt.Sprintf("error applying decoding strategy %s to data: %v", req.DecodingStrategy, err)}
	}
	return reply{Data: m}
}

func handle(req *request) reply {
	switch req.Op {
	case "template":
		if req.Template == nil {
			return reply{Error: "no template"}
		}
		return applyTemplate(req)
	case "dataFrom":
		return shapeDataFrom(req)
	case "decode":
		v, err := esutils.Decode(req.DecodingStrategy, req.Value)
		if err != nil {
			return reply{Error: fmt.Sprintf("error applying decoding strategy %s to data: %v", req.DecodingStrategy, err)}
		}
		return reply{Value: v}
	}
	return reply{Error: fmt.Sprintf("unknown op %q", req.Op)}
}

// pinned keeps buffers handed to the host alive until it frees them.
var pinned = map[uintptr][]byte{}

//go:wasmexport herdless_alloc
func herdlessAlloc(size uint32) uint32 {
	buf := make([]byte, size+1)
	ptr := uintptr(unsafe.Pointer(&buf[0]))
	pinned[ptr] = buf
	return uint32(ptr)
}

//go:wasmexport herdless_free
func herdlessFree(ptr uint32) {
	delete(pinned, uintptr(ptr))
}

//go:wasmexport herdless_call
func herdlessCall(ptr, size uint32) uint64 {
	in := pinned[uintptr(ptr)][:size]
	var req request
	var out reply
	if err := json.Unmarshal(in, &req); err != nil {
		out = reply{Error: fmt.Sprintf("bad request: %v", err)}
	} else {
		out = handle(&req)
	}
	delete(pinned, uintptr(ptr))
	body, err := json.Marshal(out)
	if err != nil {
		body, _ = json.Marshal(reply{Error: err.Error()})
	}
	body = append(body, 0)
	res := uintptr(unsafe.Pointer(&body[0]))
	pinned[res] = body
	return uint64(res)<<32 | uint64(len(body)-1)
}

func main() {}
