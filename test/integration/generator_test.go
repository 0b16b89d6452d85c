package integration

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// A generated corpus of server specs for the admission property. Each spec
// starts valid and gets one or two mutations from one class of mistakes a
// team makes (the classes of the admission issue), often one more from
// another class, with values drawn from pools that mix good values, edge
// values and plain mistakes. The generator is deterministic for a seed.

// genCase is one generated spec: the server's name and spec, and the
// storage of the Application it refers to (as unstructured JSON values).
type genCase struct {
	class   string
	name    string
	spec    map[string]any
	storage map[string]any
}

// mutation changes a case; it may make it invalid or leave it valid.
type mutation func(r *rand.Rand, c *genCase)

// genClasses are the classes of mistakes, each a list of mutations.
var genClasses = []struct {
	name      string
	mutations []mutation
}{
	{"release drift", []mutation{mutateRelease, mutateRelease, mutateParameters}},
	{"Triton cross-checks", []mutation{mutateCrossChecks, mutateRestrictions, mutateHostPolicy, mutateS3Path}},
	{"names", []mutation{mutateName}},
	{"pod fields", []mutation{mutateScheduling, mutateResources, mutatePDB}},
	{"render-time values", []mutation{mutateMetricsInterval, mutateSampling, mutateModels, mutateParameters}},
	{"metrics off", []mutation{mutateMetricsOff}},
	{"smaller", []mutation{mutateTracingEndpoint, mutateBackendConfigs, mutateCPUAutoscaling, mutateGPUs, mutateImage, mutateSizes}},
	{"cross-object storage", []mutation{mutateStorage}},
	{"valid variety", []mutation{mutateNetworking, mutateAutoscaling, mutateRelease, mutateModels}},
}

// generate returns n cases.
func generate(seed uint64, n int) []genCase {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]genCase, 0, n)
	for i := range n {
		cls := genClasses[i%len(genClasses)]
		c := genCase{
			class:   cls.name,
			name:    "srv",
			spec:    map[string]any{"applicationRef": map[string]any{"name": "app"}, "storageUri": "s3://bucket/models"},
			storage: map[string]any{"secretRef": map[string]any{"name": "creds"}, "endpoint": "http://minio:9000"},
		}
		for range 1 + r.IntN(2) {
			cls.mutations[r.IntN(len(cls.mutations))](r, &c)
		}
		if r.IntN(2) == 0 {
			other := genClasses[r.IntN(len(genClasses))]
			other.mutations[r.IntN(len(other.mutations))](r, &c)
		}
		out = append(out, c)
	}
	return out
}

func pick[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }

// path returns the map at the given keys of c.spec, creating it.
func (c *genCase) path(keys ...string) map[string]any {
	m := c.spec
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m
}

func (c *genCase) addParameter(name, value string) {
	tc := c.path("tritonConfig")
	params, _ := tc["parameters"].([]any)
	tc["parameters"] = append(params, map[string]any{"name": name, "value": value})
}

var (
	releaseTags = []string{"23.01-py3", "23.05-py3", "23.08-py3", "23.10-vllm-python-py3", "24.01-py3", "24.05-py3",
		"24.12-py3", "25.02-py3", "25.03-py3", "25.04-py3", "25.06-py3", "25.07-trtllm-python-py3", "26.04-py3",
		"26.07-py3", "26.07-vllm-python-py3", "22.12-py3", "27.01-py3", "latest", "team-build", "24.12"}
	images = []string{"nvcr.io/nvidia/tritonserver", "registry.example:5000/ml/tritonserver",
		"registry.example:5000/ml/tritonserver:24.12-py3", "my/triton:custom", "my/triton:latest",
		"my/triton@sha256:" + strings.Repeat("ab", 32), "my/triton@sha256:abc", "user:pw@registry.example/triton"}
	parameterValues = []string{"", "0", "1", "-1", "2", "8", "128", "129", "65535", "65536", "2147483647",
		"2147483648", "true", "FALSE", "on", "maybe", "1.5", "6.0", "x\ny", "none", "HIGH", "execution_count",
		"0:1024", "0:0.5", "0:1.5", "gpu_0,numa-node=0", "gpu_0,cpu-cores=0-3", "gpu_0,bogus=1", "health:h=v",
		"inference,statistics:x-key=v", "inference,inference:h=v", "foo:h=v", "local,size=1048576", "redis,host=r",
		"summary_latencies=true", "a,b=c", "res:4", "res:4:0", "8000-9000", "1-65535", "9000-8000", "/opt/backends",
		"relative/dir", "model-a", "x-.*", "*", "a b"}
	otherOptionNames = []string{"http-port", "model-repository", "log-file", "grpc-use-ssl", "grpc-server-cert",
		"turbo-mode", "response-cache-byte-size", "trace-rate", "help", "strict-model-config"}
)

func mutateRelease(r *rand.Rand, c *genCase) {
	tc := c.path("tritonConfig")
	switch r.IntN(4) {
	case 0:
		tc["tag"] = pick(r, releaseTags...)
	case 1:
		tc["image"] = pick(r, images...)
	case 2:
		tc["image"] = pick(r, images...)
		tc["tritonVersion"] = pick(r, triton.Releases()...).Version
	default:
		tc["tritonVersion"] = pick(r, "2.53.0", "2.30.0", "2.71.0", "2.99.0", "24.12")
		tc["tag"] = pick(r, releaseTags...)
	}
	if r.IntN(3) == 0 {
		tc["backendType"] = pick(r, "python", "tensorflow", "pytorch", "onnxruntime", "tensorrt", "openvino", "vllm", "tensorrtllm")
	}
}

func mutateParameters(r *rand.Rand, c *genCase) {
	names := append(triton.UserSettable(), otherOptionNames...)
	for range 1 + r.IntN(3) {
		value := pick(r, parameterValues...)
		if r.IntN(8) == 0 {
			value = randomValue(r)
		}
		c.addParameter(pick(r, names...), value)
	}
}

func randomValue(r *rand.Rand) string {
	const chars = "abc019:,=-_./*% \t\n@+"
	b := make([]byte, 1+r.IntN(12))
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

func mutateCrossChecks(r *rand.Rand, c *genCase) {
	if r.IntN(2) == 0 {
		c.addParameter(pick(r, "allow-sagemaker", "allow-vertex-ai"), pick(r, "true", "false", "1"))
	}
	if r.IntN(2) == 0 {
		c.addParameter(pick(r, "sagemaker-port", "vertex-ai-port"), pick(r, "8000", "8080", "9090", "8002"))
	}
	if r.IntN(2) == 0 {
		c.addParameter("sagemaker-safe-port-range", pick(r, "8000-8010", "8000-8001", "9000-9100"))
	}
	if r.IntN(2) == 0 {
		mutateNetworking(r, c)
	}
}

func mutateRestrictions(r *rand.Rand, c *genCase) {
	cats := []string{"health", "metadata", "inference", "statistics", "model-repository", "bogus"}
	for range 1 + r.IntN(2) {
		list := []string{pick(r, cats...)}
		if r.IntN(2) == 0 {
			list = append(list, pick(r, cats...))
		}
		c.addParameter(pick(r, "http-restricted-api", "grpc-restricted-protocol"), strings.Join(list, ",")+":"+pick(r, "x-key=secret", "x-key=", "=v"))
	}
}

func mutateHostPolicy(r *rand.Rand, c *genCase) {
	c.addParameter("host-policy", pick(r, "gpu_0", "cpu", "")+","+pick(r, "numa-node=0", "numa-node=63", "numa-node=64", "numa-node=abc",
		"cpu-cores=0-7", "cpu-cores=0-3,8-11", "cpu-cores=4-1", "cpu-cores=5", "memory=1", "numa-node="))
}

func mutateS3Path(r *rand.Rand, c *genCase) {
	c.spec["storageUri"] = pick(r, "s3://bucket/a+b", "s3://bucket/a=b/m", "s3://bucket/m@1", "s3://bucket/models/v1.2_x-y", "s3://bucket")
}

func mutateName(r *rand.Rand, c *genCase) {
	c.name = pick(r, "llama-3.1-8b", "Srv", "9lives", "a-", "srv-"+strings.Repeat("x", 48), "srv-"+strings.Repeat("x", 49), "ok-name", "a")
}

func mutateScheduling(r *rand.Rand, c *genCase) {
	s := c.path("scheduling")
	switch r.IntN(5) {
	case 0:
		s["nodeSelector"] = map[string]any{pick(r, "gpu", "nvidia.com/gpu.product", "bad key", "-x", "a/b/c"): pick(r, "a100", "", "bad value!", strings.Repeat("v", 64))}
	case 1:
		t := map[string]any{}
		if r.IntN(3) > 0 {
			t["key"] = pick(r, "nvidia.com/gpu", "dedicated", "bad key")
		}
		if r.IntN(2) == 0 {
			t["operator"] = pick(r, "Exists", "Equal", "Matches")
		}
		if r.IntN(2) == 0 {
			t["value"] = pick(r, "ml", "", "bad value!")
		}
		if r.IntN(2) == 0 {
			t["effect"] = pick(r, "NoSchedule", "NoExecute", "Sometimes")
		}
		if r.IntN(3) == 0 {
			t["tolerationSeconds"] = pick(r, int64(30), int64(-1))
		}
		s["tolerations"] = []any{t}
	case 2:
		ts := map[string]any{"maxSkew": pick(r, int64(1), int64(0)), "topologyKey": pick(r, "topology.kubernetes.io/zone", "", "bad key"),
			"whenUnsatisfiable": pick(r, "DoNotSchedule", "ScheduleAnyway", "Never")}
		if r.IntN(3) == 0 {
			ts["minDomains"] = pick(r, int64(2), int64(0))
		}
		if r.IntN(3) == 0 {
			ts["labelSelector"] = map[string]any{"matchExpressions": []any{map[string]any{"key": "app", "operator": pick(r, "In", "Exists", "Near"), "values": pick(r, []any{"a"}, []any{})}}}
		}
		s["topologySpreadConstraints"] = pick(r, []any{ts}, []any{ts, ts})
	case 3:
		if r.IntN(2) == 0 {
			s["priorityClassName"] = pick(r, "high", "High_Prio", "system-node-critical")
			return
		}
		req := map[string]any{"key": pick(r, "gpu", "bad key", "nvidia.com/gpu.count"), "operator": pick(r, "In", "NotIn", "Exists", "Gt", "Resembles")}
		if r.IntN(3) > 0 {
			req["values"] = pick(r, []any{"a100"}, []any{"4"}, []any{}, []any{"x", "y"})
		}
		term := map[string]any{"matchExpressions": []any{req}}
		if r.IntN(4) == 0 {
			term["matchFields"] = []any{map[string]any{"key": pick(r, "metadata.name", "spec.x"), "operator": "In", "values": []any{"node-1"}}}
		}
		podTerm := map[string]any{"topologyKey": pick(r, "kubernetes.io/hostname", "", "bad key"),
			"labelSelector": map[string]any{"matchLabels": map[string]any{"app": pick(r, "srv", "bad value!")}}}
		s["affinity"] = pick[any](r,
			map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": []any{term}}}},
			map[string]any{"nodeAffinity": map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{
				map[string]any{"weight": pick(r, int64(1), int64(0), int64(101)), "preference": term}}}},
			map[string]any{"podAntiAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": []any{podTerm}}},
			map[string]any{"podAffinity": map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{
				map[string]any{"weight": int64(50), "podAffinityTerm": podTerm}}}})
	default:
		s["runtimeClassName"] = pick(r, "nvidia", "Nvidia GPU")
	}
}

func mutateResources(r *rand.Rand, c *genCase) {
	quantities := []any{"1", "500m", "2Gi", "-1", "0", int64(2), "1Ti"}
	keys := []string{"cpu", "memory", "ephemeral-storage", "hugepages-2Mi", "example.com/fpga", "gpu", "kubernetes.io/x"}
	res := map[string]any{}
	for _, part := range []string{"requests", "limits"} {
		if r.IntN(3) == 0 {
			continue
		}
		m := map[string]any{}
		for range 1 + r.IntN(3) {
			m[pick(r, keys...)] = pick(r, quantities...)
		}
		res[part] = m
	}
	if r.IntN(10) == 0 {
		res["claims"] = []any{map[string]any{"name": "gpu"}}
	}
	c.spec["resources"] = res
}

func mutatePDB(r *rand.Rand, c *genCase) {
	c.spec["replicas"] = int64(2 + r.IntN(3))
	c.spec["podDisruptionBudget"] = map[string]any{"maxUnavailable": pick[any](r, int64(-1), int64(0), int64(1), "50%", "150%", "abc", "0%")}
}

func mutateMetricsInterval(r *rand.Rand, c *genCase) {
	c.path("observability", "metrics")["interval"] = pick(r, "0ms", "1ms", "500ms", "2s", "999999m", "35791m", "35792m", "1h")
}

func mutateSampling(r *rand.Rand, c *genCase) {
	c.path("observability")["tracing"] = map[string]any{"collectorEndpoint": "http://otel.monitoring:4318",
		"samplingRate": pick(r, "0", "0.3", "0.25", ".5", "1", "1.0", "3", "0.00000001", "0.125", "0.7")}
}

func mutateModels(r *rand.Rand, c *genCase) {
	mc := map[string]any{"mode": pick(r, "none", "poll", "explicit")}
	if r.IntN(2) == 0 {
		mc["models"] = pick(r, []any{"*"}, []any{"*", "a"}, []any{"a", "b"}, []any{"a.b-c_1"})
	}
	if r.IntN(3) == 0 {
		mc["pollIntervalSeconds"] = pick(r, int64(5), int64(0))
	}
	c.path("tritonConfig")["modelControl"] = mc
}

func mutateMetricsOff(r *rand.Rand, c *genCase) {
	m := c.path("observability", "metrics")
	m["enabled"] = false
	switch r.IntN(4) {
	case 0:
		m["serviceMonitor"] = map[string]any{"enabled": true}
	case 1:
		m["interval"] = "2s"
	case 2:
		c.spec["autoscaling"] = map[string]any{"maxReplicas": int64(3), "queueTimeTargetMicroseconds": int64(5000)}
	}
}

func mutateTracingEndpoint(r *rand.Rand, c *genCase) {
	c.path("observability")["tracing"] = map[string]any{"collectorEndpoint": pick(r, "http://otel:4318", "http://otel:99999",
		"http://otel:4318/x?y=1", "https://otel.monitoring:4318/v1/traces", "grpc://otel:4317", "http://otel:4318/a,b")}
}

func mutateBackendConfigs(r *rand.Rand, c *genCase) {
	tc := c.path("tritonConfig")
	tc["backendConfigs"] = pick(r, []any{"python,shm-default-byte-size=1"}, []any{"onnxruntime,enable-global-threadpool=1"},
		[]any{"pytorch,x=1", "pytorch,x=2"}, []any{"tensorflow,version=2"})
	if r.IntN(2) == 0 {
		tc["pythonBackend"] = map[string]any{"extraArgs": pick(r, []any{"a=1"}, []any{"a=1", "a=2"}, []any{"shm-growth-byte-size=1048576"})}
	}
}

func mutateCPUAutoscaling(r *rand.Rand, c *genCase) {
	c.spec["autoscaling"] = map[string]any{"minReplicas": int64(1 + r.IntN(3)), "maxReplicas": int64(2 + r.IntN(3)), "targetCPUUtilizationPercentage": int64(70)}
	if r.IntN(2) == 0 {
		c.spec["resources"] = map[string]any{pick(r, "requests", "limits"): map[string]any{"cpu": "1"}}
	}
}

func mutateGPUs(r *rand.Rand, c *genCase) {
	c.spec["gpus"] = int64(r.IntN(3))
	c.spec["gpuResourceName"] = pick(r, "nvidia.com/gpu", "nvidia.com/mig-1g.5gb", "nvidiaXcom/mig-1g.5gb", "amd.com/gpu")
}

func mutateImage(r *rand.Rand, c *genCase) {
	tc := c.path("tritonConfig")
	tc["image"] = pick(r, images...)
	if r.IntN(2) == 0 {
		tc["tag"] = pick(r, releaseTags...)
	}
}

func mutateSizes(r *rand.Rand, c *genCase) {
	switch r.IntN(3) {
	case 0:
		c.spec["modelCacheSize"] = pick(r, "1Mi", "64Mi", "20Gi", "-1Gi")
	case 1:
		c.path("tritonConfig")["pythonBackend"] = map[string]any{"shmSize": pick(r, "0", "-1Mi", "1Gi", "512Ki")}
	default:
		e := map[string]any{"name": pick(r, "HF_HOME", "AWS_ACCESS_KEY_ID", "a=b", "", "LD_PRELOAD", "1X", "my var")}
		switch r.IntN(4) {
		case 0:
			e["value"] = pick(r, "x", "")
		case 1:
			e["valueFrom"] = map[string]any{"secretKeyRef": map[string]any{"name": pick(r, "hf", "", "Bad_Name"), "key": pick(r, "token", "", "a/b")}}
		case 2:
			e["valueFrom"] = map[string]any{"fieldRef": map[string]any{"fieldPath": pick(r, "status.podIP", "spec.nodeName", "spec.foo")}}
		default:
			e["value"] = "x"
			e["valueFrom"] = map[string]any{"configMapKeyRef": map[string]any{"name": "proxy", "key": "url"}}
		}
		c.spec["env"] = []any{e}
	}
}

func mutateStorage(r *rand.Rand, c *genCase) {
	c.spec["storageUri"] = pick(r, "s3://bucket/models", "gs://bucket/models", "as://acct123/container/models", "pvc://claim/models", "pvc://claim")
	st := map[string]any{"secretRef": map[string]any{"name": "creds"}}
	if r.IntN(3) == 0 {
		delete(st, "secretRef") // workload identity
		mutateRelease(r, c)
	}
	if r.IntN(2) == 0 {
		st["type"] = pick(r, "s3", "gcs", "azure")
	}
	if r.IntN(2) == 0 {
		st["endpoint"] = pick(r, "http://minio:9000", "https://minio.storage:443", "http://minio:99999")
	}
	if r.IntN(3) == 0 {
		st["region"] = "eu-west-1"
	}
	c.storage = st
}

func mutateNetworking(r *rand.Rand, c *genCase) {
	if r.IntN(2) == 0 {
		base := pick(r, int64(8000), int64(9000), int64(8080), int64(8079))
		c.spec["networking"] = map[string]any{"httpPort": base, "grpcPort": base + 1, "metricsPort": base + 2}
		return
	}
	ports := []int64{8000, 8001, 8002, 8080, 9000, 1023, 65535}
	c.spec["networking"] = map[string]any{"httpPort": pick(r, ports...), "grpcPort": pick(r, ports...), "metricsPort": pick(r, ports...)}
}

func mutateAutoscaling(r *rand.Rand, c *genCase) {
	a := map[string]any{"maxReplicas": int64(1 + r.IntN(4))}
	if r.IntN(2) == 0 {
		a["minReplicas"] = int64(1 + r.IntN(4))
	}
	a["queueTimeTargetMicroseconds"] = int64(1000)
	c.spec["autoscaling"] = a
	if r.IntN(2) == 0 {
		c.spec["replicas"] = int64(r.IntN(6))
	}
}

// describe prints a case for a failure message.
func (c genCase) describe() string {
	return fmt.Sprintf("class %q, name %q, spec %v, storage %v", c.class, c.name, c.spec, c.storage)
}
