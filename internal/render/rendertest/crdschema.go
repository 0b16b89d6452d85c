// Package rendertest is test support for the renderers: the generated CRD
// schemas evaluated in-process (defaults, pruning, OpenAPI validation and
// the CEL x-kubernetes-validations, the way the API server admits a
// create), and the checks that the fuzz targets, the golden files and the
// corpus replay apply to a renderer. Every check takes the renderer as a
// parameter, so a test can hand it a deliberately broken one.
//
// Only tests import this package; the operator never does.
package rendertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

// Schema is the schema of one version of a CRD, compiled once.
type Schema struct {
	GVK        schema.GroupVersionKind
	structural *structuralschema.Structural
	validator  apiextensionsvalidation.SchemaValidator
	cel        *cel.Validator
}

// LoadSchema reads a generated CRD manifest and compiles the schema of its
// storage version, CEL rules included.
func LoadSchema(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, v := range crd.Spec.Versions {
		if !v.Storage {
			continue
		}
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("%s: version %s has no schema", path, v.Name)
		}
		var internal apiextensionsinternal.CustomResourceValidation
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, &internal, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			return nil, fmt.Errorf("%s: the schema is not structural: %w", path, err)
		}
		validator, _, err := apiextensionsvalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &Schema{
			GVK:        schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind},
			structural: structural,
			validator:  validator,
			cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
		}, nil
	}
	return nil, fmt.Errorf("%s: no storage version", path)
}

// AdmissionError lists why the schema refuses an object.
type AdmissionError struct{ Errs field.ErrorList }

func (e *AdmissionError) Error() string {
	return "refused by the CRD schema: " + e.Errs.ToAggregate().Error()
}

// Admit evaluates a create of obj (an unstructured object with apiVersion,
// kind, metadata and spec; integers as int64) as the API server does: schema
// defaults, then pruning of unknown fields, then the OpenAPI validation, the
// list-type invariants and, when those pass, the CEL rules. It returns the
// defaulted, pruned copy, or an *AdmissionError.
func (s *Schema) Admit(obj map[string]any) (map[string]any, error) {
	out := runtime.DeepCopyJSON(obj)
	structuraldefaulting.Default(out, s.structural)
	pruning.Prune(out, s.structural, true)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(out, s.structural)
	errs := apiextensionsvalidation.ValidateCustomResource(nil, out, s.validator)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, s.structural, out)...)
	if len(errs) == 0 { // the API server skips CEL when the object is malformed
		celErrs, _ := s.cel.Validate(context.Background(), nil, s.structural, out, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	if len(errs) > 0 {
		return nil, &AdmissionError{Errs: errs}
	}
	return out, nil
}

// AdmitTyped admits a typed object and decodes the stored (defaulted) form
// into into.
func (s *Schema) AdmitTyped(obj runtime.Object, into runtime.Object) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u["apiVersion"], u["kind"] = s.GVK.GroupVersion().String(), s.GVK.Kind
	delete(u, "status") // a create drops the status (status subresource)
	stored, err := s.Admit(u)
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(stored, into)
}

var (
	serverSchemaOnce sync.Once
	serverSchema     *Schema
	errServerSchema  error
)

// ServerSchema is the KalypsoTritonServer schema from
// config/crd/bases, compiled on first use.
func ServerSchema() (*Schema, error) {
	serverSchemaOnce.Do(func() {
		serverSchema, errServerSchema = LoadSchema(testenv.Path("config", "crd", "bases",
			servingv1alpha1.GroupVersion.Group+"_kalypsotritonservers.yaml"))
	})
	return serverSchema, errServerSchema
}

// AdmitServer returns the stored form of srv if the CRD schema admits it on
// create, or why it does not.
func AdmitServer(srv *servingv1alpha1.KalypsoTritonServer) (*servingv1alpha1.KalypsoTritonServer, error) {
	s, err := ServerSchema()
	if err != nil {
		return nil, err
	}
	if srv == nil {
		return nil, errors.New("no server")
	}
	in := srv.DeepCopy()
	in.Status = servingv1alpha1.KalypsoTritonServerStatus{}
	out := &servingv1alpha1.KalypsoTritonServer{}
	if err := s.AdmitTyped(in, out); err != nil {
		return nil, err
	}
	return out, nil
}
