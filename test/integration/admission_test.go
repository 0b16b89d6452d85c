package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

const admissionNS = "admission"

// object parses one YAML manifest.
func object(manifest string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	ExpectWithOffset(1, yaml.Unmarshal([]byte(manifest), &u.Object)).To(Succeed())
	return u
}

func validServer() *unstructured.Unstructured {
	return object(`
apiVersion: serving.kalypso.io/v1alpha1
kind: KalypsoTritonServer
metadata: {name: srv, namespace: admission}
spec:
  applicationRef: {name: app}
  storageUri: s3://bucket/models
`)
}

func validApplication() *unstructured.Unstructured {
	return object(`
apiVersion: serving.kalypso.io/v1alpha1
kind: KalypsoApplication
metadata: {name: app, namespace: admission}
spec:
  storage: {secretRef: {name: creds}}
`)
}

func validProject() *unstructured.Unstructured {
	return object(`
apiVersion: serving.kalypso.io/v1alpha1
kind: KalypsoProject
metadata: {name: proj}
spec:
  environments:
  - name: dev
`)
}

// with returns obj after setting value at the dotted path (a.b.c). A nil
// value removes the field.
func with(obj *unstructured.Unstructured, path string, value any) *unstructured.Unstructured {
	fields := strings.Split(path, ".")
	if value == nil {
		unstructured.RemoveNestedField(obj.Object, fields...)
		return obj
	}
	ExpectWithOffset(1, unstructured.SetNestedField(obj.Object, value, fields...)).To(Succeed())
	return obj
}

func yamlValue(s string) any {
	var v any
	ExpectWithOffset(1, yaml.Unmarshal([]byte(s), &v)).To(Succeed())
	return v
}

// readManifests returns every document of every YAML file in dir except kustomization.yaml.
func readManifests(dir string) []*unstructured.Unstructured {
	entries, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	var out []*unstructured.Unstructured
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") || e.Name() == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		Expect(err).NotTo(HaveOccurred())
		objs, err := testenv.DecodeObjects(data)
		Expect(err).NotTo(HaveOccurred(), e.Name())
		out = append(out, objs...)
	}
	return out
}

var _ = Describe("Admission", Ordered, ContinueOnFailure, func() {
	BeforeAll(func() {
		for _, ns := range []string{admissionNS, "sample-project-dev"} {
			err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			if !apierrors.IsAlreadyExists(err) {
				Expect(err).NotTo(HaveOccurred())
			}
		}
	})

	It("installs the three CRDs in the kalypso category", func() {
		for _, kind := range []string{"KalypsoProjectList", "KalypsoApplicationList", "KalypsoTritonServerList"} {
			list := &unstructured.UnstructuredList{}
			list.SetAPIVersion("serving.kalypso.io/v1alpha1")
			list.SetKind(kind)
			Expect(k8sClient.List(ctx, list)).To(Succeed(), kind)
		}
	})

	It("accepts every sample in config/samples", func() {
		samples := readManifests(testenv.Path("config", "samples"))
		Expect(len(samples)).To(BeNumerically(">=", 3))
		for _, s := range samples {
			Expect(k8sClient.Create(ctx, s, client.DryRunAll)).To(Succeed(), "%s %s", s.GetKind(), s.GetName())
		}
	})

	It("accepts every valid fixture", func() {
		withEnv := with(validServer(), "spec.env", yamlValue(`[{name: LD_PRELOAD, value: /usr/lib/libtcmalloc.so.4},
  {name: HF_TOKEN, valueFrom: {secretKeyRef: {name: hf, key: token}}}, {name: HTTPS_PROXY, valueFrom: {configMapKeyRef: {name: proxy, key: url}}}]`))
		for _, o := range []*unstructured.Unstructured{validServer(), withEnv, validApplication(), validProject()} {
			Expect(k8sClient.Create(ctx, o, client.DryRunAll)).To(Succeed(), o.GetKind())
		}
	})

	It("applies the documented defaults", func() {
		s := validServer()
		Expect(k8sClient.Create(ctx, s, client.DryRunAll)).To(Succeed())
		spec := s.Object["spec"].(map[string]any)
		Expect(spec["replicas"]).To(BeEquivalentTo(1))
		Expect(spec["networking"]).To(Equal(map[string]any{"httpPort": int64(8000), "grpcPort": int64(8001), "metricsPort": int64(8002)}))
		Expect(spec["tritonConfig"]).To(HaveKeyWithValue("backendType", "python"))
		Expect(spec["gpuResourceName"]).To(Equal("nvidia.com/gpu"))
	})

	DescribeTable("rejects invalid objects with a message naming the field",
		func(obj *unstructured.Unstructured, wantMessage string) {
			// Strict field validation, as kubectl uses by default: an unknown
			// field such as a reference's namespace is an error, not a warning.
			err := k8sClient.Create(ctx, obj, client.DryRunAll, client.FieldValidation("Strict"))
			Expect(err).To(HaveOccurred())
			// 422 for schema and CEL rules, 400 for strict decoding of unknown fields.
			Expect(apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)).To(BeTrue(), "want a rejection, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantMessage))
		},
		Entry("a server whose backendType is not a Triton backend",
			with(validServer(), "spec.tritonConfig.backendType", "caffe"), "spec.tritonConfig.backendType"),
		Entry("a server with negative replicas",
			with(validServer(), "spec.replicas", int64(-1)), "spec.replicas"),
		Entry("a server with more replicas than allowed",
			with(validServer(), "spec.replicas", int64(100000)), "spec.replicas"),
		Entry("a server whose HTTP port is out of range",
			with(validServer(), "spec.networking", yamlValue(`{httpPort: 70000}`)), "spec.networking.httpPort"),
		Entry("a server whose gRPC port equals its HTTP port",
			with(validServer(), "spec.networking", yamlValue(`{httpPort: 9000, grpcPort: 9000}`)), "ports httpPort, grpcPort and metricsPort must be distinct"),
		Entry("a server whose storageUri has an unsupported scheme",
			with(validServer(), "spec.storageUri", "ftp://host/models"), "storageUri must start with s3://, gs://, as:// or pvc://"),
		Entry("a server whose s3 storageUri has no bucket",
			with(validServer(), "spec.storageUri", "s3:///models"), "s3:// needs a valid bucket name"),
		Entry("a server whose as:// storageUri has no container",
			with(validServer(), "spec.storageUri", "as://account"), "as:// needs an account and a container"),
		Entry("a server whose pvc:// storageUri has no claim",
			with(validServer(), "spec.storageUri", "pvc:///models"), "pvc:// needs a claim name"),
		Entry("a server whose storageUri climbs out with ..",
			with(validServer(), "spec.storageUri", "pvc://claim/../etc"), "must not contain .. path segments"),
		Entry("a server with an empty applicationRef",
			with(validServer(), "spec.applicationRef", yamlValue(`{name: ""}`)), "spec.applicationRef.name"),
		Entry("a server with no applicationRef",
			with(validServer(), "spec.applicationRef", nil), "spec.applicationRef"),
		Entry("a server whose applicationRef names a namespace",
			with(validServer(), "spec.applicationRef", yamlValue(`{name: app, namespace: other}`)), `unknown field "spec.applicationRef.namespace"`),
		Entry("a server with tag latest",
			with(validServer(), "spec.tritonConfig", yamlValue(`{tag: latest}`)), "tag must pin a release"),
		Entry("a server with an unknown log level",
			with(validServer(), "spec.observability", yamlValue(`{logging: {level: DEBUG}}`)), "spec.observability.logging.level"),
		Entry("a server with a non-numeric sampling rate",
			with(validServer(), "spec.observability", yamlValue(`{tracing: {collectorEndpoint: "http://otel:4318", samplingRate: "half"}}`)), "spec.observability.tracing.samplingRate"),
		Entry("a server with a tracing endpoint that is not http(s)",
			with(validServer(), "spec.observability", yamlValue(`{tracing: {collectorEndpoint: "grpc://otel:4317"}}`)), "collectorEndpoint must be an http(s) OTLP/HTTP URL"),
		Entry("a server listing models without explicit model control",
			with(validServer(), "spec.tritonConfig", yamlValue(`{modelControl: {mode: poll, models: [a]}}`)), "models is only valid with mode explicit"),
		Entry("a server with a poll interval outside poll mode",
			with(validServer(), "spec.tritonConfig", yamlValue(`{modelControl: {mode: explicit, pollIntervalSeconds: 5}}`)), "pollIntervalSeconds is only valid with mode poll"),
		Entry("a server setting an operator-managed Triton option",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: http-port, value: "9000"}]}`)), "managed by the operator"),
		Entry("a server setting an unknown Triton option",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: turbo-mode, value: "on"}]}`)), "unknown Triton option"),
		Entry("a server with autoscaling min above max",
			with(validServer(), "spec.autoscaling", yamlValue(`{minReplicas: 5, maxReplicas: 2, targetCPUUtilizationPercentage: 80}`)), "minReplicas must not exceed maxReplicas"),
		Entry("a server with autoscaling but no target",
			with(validServer(), "spec.autoscaling", yamlValue(`{maxReplicas: 2}`)), "autoscaling needs targetCPUUtilizationPercentage"),
		Entry("a server requesting GPUs twice",
			with(validServer(), "spec", yamlValue(`{applicationRef: {name: app}, storageUri: "s3://b/m", gpus: 1, resources: {limits: {nvidia.com/gpu: "1"}}}`)), "set GPUs with spec.gpus"),
		Entry("a server with an unknown GPU resource",
			with(validServer(), "spec.gpuResourceName", "amd.com/gpu"), "gpuResourceName must be nvidia.com/gpu or a MIG profile"),
		Entry("a server whose name is too long for its children",
			with(validServer(), "metadata.name", strings.Repeat("a", 53)), "server name must be at most 52 characters"),
		Entry("an application whose storage type is unknown",
			with(validApplication(), "spec.storage.type", "ftp"), "spec.storage.type"),
		Entry("an application whose endpoint has a path",
			with(validApplication(), "spec.storage.endpoint", "http://minio:9000/bucket"), "storage.endpoint must be http(s)://host[:port]"),
		Entry("an application whose secretRef names a namespace",
			with(validApplication(), "spec.storage.secretRef", yamlValue(`{name: creds, namespace: other}`)), `unknown field "spec.storage.secretRef.namespace"`),
		Entry("a project with a kube- system namespace as an environment",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, namespace: kube-system}]`)), "must not be default or a kube- system namespace"),
		Entry("a project named kube whose environment would default to kube-system",
			with(with(validProject(), "metadata.name", "kube"), "spec.environments", yamlValue(`[{name: system}]`)), "would place its environments in kube- system namespaces"),
		Entry("a project with the default namespace as an environment",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, namespace: default}]`)), "must not be default or a kube- system namespace"),
		Entry("a project with two environments of the same name",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev}, {name: dev}]`)), "spec.environments[1]"),
		Entry("a project with two environments sharing a namespace",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, namespace: shared}, {name: prod, namespace: shared}]`)), "namespace must be unique"),
		Entry("a project with a defaulted namespace equal to another environment's explicit one",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev}, {name: prod, namespace: proj-dev}]`)), "would share a namespace"),
		Entry("a project granting its viewer role to every anonymous user",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, access: {viewers: [{kind: Group, name: "system:unauthenticated"}]}}]`)), "must not name everyone"),
		Entry("a project granting its admin role to the anonymous user",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, access: {admins: [{kind: User, name: "system:anonymous"}]}}]`)), "must not name everyone"),
		Entry("a project granting its editor role to every authenticated user",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, access: {editors: [{kind: Group, name: "system:authenticated"}]}}]`)), "must not name everyone"),
		Entry("a project granting a role to every service account of the cluster",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, access: {viewers: [{kind: Group, name: "system:serviceaccounts"}]}}]`)), "must not name everyone"),
		Entry("a server with a model cache too small to hold a model",
			with(validServer(), "spec.modelCacheSize", "1Mi"), "modelCacheSize must be at least 64Mi"),
		Entry("a server setting a storage credential through env",
			with(validServer(), "spec.env", yamlValue(`[{name: AWS_ACCESS_KEY_ID, value: x}]`)), "env must not set the variables the operator sets"),
		Entry("a server setting one env name twice",
			with(validServer(), "spec.env", yamlValue(`[{name: HF_HOME, value: /a}, {name: HF_HOME, value: /b}]`)), "spec.env[1]"),
		Entry("a project whose quota key carries a requests. prefix",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, resourceQuota: {limits: {requests.nvidia.com/gpu: "1"}}}]`)), "without a limits. or requests. prefix"),
		Entry("a project with an unknown Pod Security level",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, podSecurity: strict}]`)), "spec.environments[0].podSecurity"),
		Entry("a server with a metrics port below 1024",
			with(validServer(), "spec.networking", yamlValue(`{metricsPort: 80}`)), "spec.networking.metricsPort"),
		Entry("a server whose metrics port equals its gRPC port",
			with(validServer(), "spec.networking", yamlValue(`{grpcPort: 9100, metricsPort: 9100}`)), "ports httpPort, grpcPort and metricsPort must be distinct"),
		Entry("a server with more GPUs than allowed",
			with(validServer(), "spec.gpus", int64(17)), "spec.gpus"),
		Entry("a server with negative GPUs",
			with(validServer(), "spec.gpus", int64(-1)), "spec.gpus"),
		Entry("a server with an unknown model control mode",
			with(validServer(), "spec.tritonConfig", yamlValue(`{modelControl: {mode: lazy}}`)), "spec.tritonConfig.modelControl.mode"),
		Entry("a server with a zero poll interval",
			with(validServer(), "spec.tritonConfig", yamlValue(`{modelControl: {mode: poll, pollIntervalSeconds: 0}}`)), "spec.tritonConfig.modelControl.pollIntervalSeconds"),
		Entry("a server loading a model with a bad name",
			with(validServer(), "spec.tritonConfig", yamlValue(`{modelControl: {mode: explicit, models: ["../etc"]}}`)), "spec.tritonConfig.modelControl.models"),
		Entry("a server with an unknown log format",
			with(validServer(), "spec.observability", yamlValue(`{logging: {format: json}}`)), "spec.observability.logging.format"),
		Entry("a server with an unknown image pull policy",
			with(validServer(), "spec.tritonConfig", yamlValue(`{imagePullPolicy: Sometimes}`)), "spec.tritonConfig.imagePullPolicy"),
		Entry("a server combining an image digest with a tag",
			with(validServer(), "spec.tritonConfig", yamlValue(`{image: "triton@sha256:abc", tag: "24.12-py3"}`)), "tag cannot be combined with an image that already has a tag or digest"),
		Entry("a server with a python shared memory below 1 MiB",
			with(validServer(), "spec.tritonConfig", yamlValue(`{pythonBackend: {shmDefaultByteSize: 1024}}`)), "spec.tritonConfig.pythonBackend.shmDefaultByteSize"),
		Entry("a server repeating shm-default-byte-size in extraArgs",
			with(validServer(), "spec.tritonConfig", yamlValue(`{pythonBackend: {extraArgs: ["shm-default-byte-size=1"]}}`)), "set shm-default-byte-size with pythonBackend.shmDefaultByteSize"),
		Entry("a server with a malformed backend config",
			with(validServer(), "spec.tritonConfig", yamlValue(`{backendConfigs: ["no-equals-sign"]}`)), "spec.tritonConfig.backendConfigs[0]"),
		Entry("a server with a metrics interval in hours",
			with(validServer(), "spec.observability", yamlValue(`{metrics: {interval: 1h}}`)), "spec.observability.metrics.interval"),
		Entry("a server with a startup budget under 10 seconds",
			with(validServer(), "spec.probes", yamlValue(`{startupTimeoutSeconds: 5}`)), "spec.probes.startupTimeoutSeconds"),
		Entry("a server autoscaling on CPU without a CPU request",
			with(validServer(), "spec.autoscaling", yamlValue(`{maxReplicas: 3, targetCPUUtilizationPercentage: 50}`)), "set resources.requests.cpu"),
		Entry("a server with a CPU target above 100%",
			with(validServer(), "spec.autoscaling", yamlValue(`{maxReplicas: 2, targetCPUUtilizationPercentage: 150}`)), "spec.autoscaling.targetCPUUtilizationPercentage"),
		Entry("a server with an invalid service account name",
			with(validServer(), "spec.serviceAccountName", "Not_Valid"), "spec.serviceAccountName"),
		Entry("a server with a gs:// URI without a bucket",
			with(validServer(), "spec.storageUri", "gs://"), "storageUri"),
		Entry("a server with a storage URI that is too long",
			with(validServer(), "spec.storageUri", "s3://bucket/"+strings.Repeat("a", 1100)), "spec.storageUri"),
		Entry("an application with a projectRef that names a namespace",
			with(validApplication(), "spec.projectRef", yamlValue(`{name: p, namespace: other}`)), `unknown field "spec.projectRef.namespace"`),
		Entry("an application with an uppercase region",
			with(validApplication(), "spec.storage.region", "EU-WEST-1"), "spec.storage.region"),
		Entry("an application whose endpoint is not http(s)",
			with(validApplication(), "spec.storage.endpoint", "ftp://minio:21"), "storage.endpoint must be http(s)://host[:port]"),
		Entry("an application whose name is too long for a label",
			with(validApplication(), "metadata.name", strings.Repeat("a", 64)), "application name must be at most 63 characters"),
		Entry("a project whose name is too long for its namespaces",
			with(validProject(), "metadata.name", strings.Repeat("p", 41)), "project name must be at most 40 characters"),
		Entry("a project with an environment name that is not a DNS label",
			with(validProject(), "spec.environments", yamlValue(`[{name: Dev_1}]`)), "spec.environments[0].name"),
		Entry("a project with an unknown network isolation mode",
			with(validProject(), "spec.environments", yamlValue(`[{name: dev, networkIsolation: {mode: Open}}]`)), "spec.environments[0].networkIsolation.mode"),
		Entry("a project that sets the removed model registry field",
			with(validProject(), "spec.modelRegistry", yamlValue(`{url: u}`)), `unknown field "spec.modelRegistry"`),
		Entry("a project with more than 16 environments",
			with(validProject(), "spec.environments", manyEnvironments(17)), "spec.environments"),
		Entry("a project with an unknown deletion policy",
			with(validProject(), "spec.deletionPolicy", "Orphan"), "spec.deletionPolicy"),
	)

	It("refuses to change a server's applicationRef", func() {
		s := validServer()
		s.SetName("immutable")
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		Expect(unstructured.SetNestedField(s.Object, "other", "spec", "applicationRef", "name")).To(Succeed())
		err := k8sClient.Update(ctx, s)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("applicationRef is immutable"))
	})
})

func manyEnvironments(n int) any {
	out := make([]any, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, map[string]any{"name": fmt.Sprintf("env%d", i)})
	}
	return out
}
