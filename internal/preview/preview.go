// Package preview renders, without a cluster, the exact objects the operator
// would apply for the KalypsoTritonServers in a set of manifests. It backs
// `kalypso render` and the golden-file tests.
package preview

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// Manifests holds the Kalypso objects read from YAML.
type Manifests struct {
	Applications map[string]*servingv1alpha1.KalypsoApplication // by namespace/name
	Servers      []*servingv1alpha1.KalypsoTritonServer
}

// Read decodes every YAML document of r, keeping the Kalypso kinds.
func Read(r io.Reader) (*Manifests, error) {
	m := &Manifests{Applications: map[string]*servingv1alpha1.KalypsoApplication{}}
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("decoding manifests: %w", err)
		}
		if len(u.Object) == 0 || u.GroupVersionKind().GroupVersion() != servingv1alpha1.GroupVersion {
			continue
		}
		if err := m.add(u); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Manifests) add(u *unstructured.Unstructured) error {
	switch u.GetKind() {
	case "KalypsoApplication":
		app := &servingv1alpha1.KalypsoApplication{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, app, true); err != nil {
			return fmt.Errorf("KalypsoApplication %s: %w", u.GetName(), err)
		}
		m.Applications[app.Namespace+"/"+app.Name] = app
	case "KalypsoTritonServer":
		srv := &servingv1alpha1.KalypsoTritonServer{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, srv, true); err != nil {
			return fmt.Errorf("KalypsoTritonServer %s: %w", u.GetName(), err)
		}
		m.Servers = append(m.Servers, srv)
	}
	return nil
}

// Merge adds other's objects to m.
func (m *Manifests) Merge(other *Manifests) {
	for k, v := range other.Applications {
		m.Applications[k] = v
	}
	m.Servers = append(m.Servers, other.Servers...)
}

// Options say how the operator that would apply the objects runs.
type Options struct {
	// OperatorLoadsModels: the manager reads Triton pods (--triton-access
	// direct, as config/manager ships it), so servers of mode explicit get
	// their models loaded by the operator and a readiness gate instead of
	// --load-model arguments.
	OperatorLoadsModels bool
}

// Render writes, as a YAML stream, every child of every server in m, with
// the same content (and applied-hash annotation) the operator applies.
func Render(m *Manifests, w io.Writer, opts Options) error {
	servers := append([]*servingv1alpha1.KalypsoTritonServer(nil), m.Servers...)
	sort.Slice(servers, func(i, j int) bool {
		return servers[i].Namespace+"/"+servers[i].Name < servers[j].Namespace+"/"+servers[j].Name
	})
	var buf bytes.Buffer
	for _, srv := range servers {
		app := m.Applications[srv.Namespace+"/"+srv.Spec.ApplicationRef.Name]
		children, err := render.Children(render.Input{Server: srv, Application: app,
			OperatorLoadsModels: opts.OperatorLoadsModels && render.ReadsModels(srv.Spec)})
		if err != nil {
			return fmt.Errorf("KalypsoTritonServer %s/%s: %w", srv.Namespace, srv.Name, err)
		}
		for _, c := range children {
			if c.Object == nil {
				continue
			}
			if err := apply.Prepare(c.Object); err != nil {
				return err
			}
			data, err := yaml.Marshal(c.Object.Object)
			if err != nil {
				return fmt.Errorf("encoding %s %s: %w", c.GVK.Kind, c.Object.GetName(), err)
			}
			buf.WriteString("---\n")
			buf.Write(data)
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}
