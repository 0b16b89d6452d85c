package integration

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// One named example per class of mistake that used to be admitted and fail
// later (the property test covers each class broadly); the message must
// name the field or the option.
var _ = Describe("Admission of specs that could not work", func() {
	BeforeEach(func() {
		err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: admissionNS}})
		Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
	})

	DescribeTable("refuses them with a message naming the field",
		func(obj *unstructured.Unstructured, wantMessage string) {
			err := k8sClient.Create(ctx, obj, client.DryRunAll)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want a rejection, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantMessage))
		},
		Entry("an option newer than the default tag's release",
			with(validServer(), "spec.tritonConfig", yamlValue(`{tag: 24.12-py3, parameters: [{name: grpc-infer-thread-count, value: "4"}]}`)),
			"grpc-infer-thread-count 25.04"),
		Entry("an image by digest without tritonVersion",
			with(validServer(), "spec.tritonConfig", yamlValue(`{image: "my/triton@sha256:`+sha+`"}`)), "needs tritonConfig.tritonVersion"),
		Entry("a custom tag without tritonVersion",
			with(validServer(), "spec.tritonConfig", yamlValue(`{tag: team-build}`)), "needs tritonConfig.tritonVersion"),
		Entry("a release older than the table",
			with(validServer(), "spec.tritonConfig", yamlValue(`{tag: 22.12-py3}`)), "not one this operator knows"),
		Entry("TensorFlow on a release without its backend",
			with(validServer(), "spec.tritonConfig", yamlValue(`{tag: 25.04-py3, backendType: tensorflow}`)), "up to release 25.02"),
		Entry("SageMaker on the HTTP port",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: allow-sagemaker, value: "true"}, {name: sagemaker-port, value: "8000"}]}`)),
			"sagemaker-port and vertex-ai-port must differ"),
		Entry("a safe port range excluding the server's ports",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: sagemaker-safe-port-range, value: "9000-9100"}]}`)),
			"sagemaker-safe-port-range must include"),
		Entry("an unknown host-policy setting",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: host-policy, value: "gpu_0,memory=1"}]}`)), "the only settings Triton knows"),
		Entry("a restricted health API",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: http-restricted-api, value: "health:x-key=v"}]}`)), "must not restrict health"),
		Entry("an S3 path Triton's endpoint pattern does not match",
			with(validServer(), "spec.storageUri", "s3://bucket/a+b/model"), "storageUri s3://"),
		Entry("gRPC TLS without a way to mount certificates",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: grpc-use-ssl, value: "true"}]}`)), "gRPC TLS options are refused"),
		Entry("a server name with dots",
			with(validServer(), "metadata.name", "llama-3.1-8b"), "server name must be a DNS label"),
		Entry("a project name with dots",
			with(validProject(), "metadata.name", "team.ml"), "project name must be a DNS label"),
		Entry("a node selector key with a space",
			with(validServer(), "spec.scheduling", yamlValue(`{nodeSelector: {"bad key": x}}`)), "nodeSelector keys must be label keys"),
		Entry("a toleration with an unknown operator",
			with(validServer(), "spec.scheduling", yamlValue(`{tolerations: [{key: gpu, operator: Matches}]}`)), "spec.scheduling.tolerations[0].operator"),
		Entry("a node affinity operator Kubernetes does not know",
			with(validServer(), "spec.scheduling", yamlValue(`{affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: gpu, operator: Resembles, values: [a100]}]}]}}}}`)),
			"spec.scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator"),
		Entry("a request above its limit",
			with(validServer(), "spec.resources", yamlValue(`{requests: {memory: 4Gi}, limits: {memory: 2Gi}}`)), "a request must not exceed its limit"),
		Entry("a negative CPU limit",
			with(validServer(), "spec.resources", yamlValue(`{limits: {cpu: "-1"}}`)), "must not be negative"),
		Entry("a PDB maxUnavailable of 150%",
			with(validServer(), "spec.podDisruptionBudget", yamlValue(`{maxUnavailable: "150%"}`)), "maxUnavailable must be"),
		Entry("a metrics interval of 0ms",
			with(validServer(), "spec.observability", yamlValue(`{metrics: {interval: 0ms}}`)), "metrics.interval must be from 1ms"),
		Entry("a sampling rate of 0.3",
			with(validServer(), "spec.observability", yamlValue(`{tracing: {collectorEndpoint: "http://otel:4318", samplingRate: "0.3"}}`)), "a ratio must be 1/N"),
		Entry("'*' among other models",
			with(validServer(), "spec.tritonConfig", yamlValue(`{modelControl: {mode: explicit, models: ["*", a]}}`)), "must be the only entry"),
		Entry("a header forward pattern that does not compile",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: http-header-forward-pattern, value: "(x-.*"}]}`)), "header forward pattern"),
		Entry("a metrics setting Triton ignores",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: metrics-config, value: "summary_latency=true"}]}`)), "metrics-config is"),
		Entry("a switch given a value",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: disable-auto-complete-config, value: "true"}]}`)), "takes no value"),
		Entry("a value with a newline",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: id, value: "a\nb"}]}`)), "control characters"),
		Entry("a single-valued option given twice",
			with(validServer(), "spec.tritonConfig", yamlValue(`{parameters: [{name: id, value: a}, {name: id, value: b}]}`)), "given more than once"),
		Entry("a ServiceMonitor with metrics off",
			with(validServer(), "spec.observability", yamlValue(`{metrics: {enabled: false, serviceMonitor: {enabled: true}}}`)), "metrics.enabled is false"),
		Entry("latest in a full image reference",
			with(validServer(), "spec.tritonConfig", yamlValue(`{image: "my/triton:latest"}`)), "must pin a release, not latest"),
		Entry("a tag beside an image that has one",
			with(validServer(), "spec.tritonConfig", yamlValue(`{image: "my/triton:24.12-py3", tag: 25.01-py3}`)), "already has a tag or digest"),
		Entry("a malformed digest",
			with(validServer(), "spec.tritonConfig", yamlValue(`{image: "my/triton@sha256:abc", tritonVersion: 2.53.0}`)), "a digest must be @sha256:"),
		Entry("an unescaped dot in a MIG profile",
			with(validServer(), "spec.gpuResourceName", "nvidiaXcom/mig-1g.5gb"), "gpuResourceName must be"),
		Entry("a tracing endpoint port above 65535",
			with(validServer(), "spec.observability", yamlValue(`{tracing: {collectorEndpoint: "http://otel:99999"}}`)), "collectorEndpoint must be"),
		Entry("a tracing endpoint with a query string",
			with(validServer(), "spec.observability", yamlValue(`{tracing: {collectorEndpoint: "http://otel:4318/x?y=1"}}`)), "no query string"),
		Entry("a python setting in backendConfigs",
			with(validServer(), "spec.tritonConfig", yamlValue(`{backendConfigs: ["python,shm-default-byte-size=1"]}`)), "set python backend settings with pythonBackend"),
		Entry("an S3 endpoint on a GCS application",
			with(with(validApplication(), "spec.storage.type", "gcs"), "spec.storage.endpoint", "http://minio:9000"), "Triton ignores it for gcs and azure"),
		Entry("credentials in a git repository URL",
			with(validApplication(), "spec.source", yamlValue(`{gitRepository: "https://user:token@git.example/repo.git"}`)), "must not embed credentials"),
	)
})

var sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
