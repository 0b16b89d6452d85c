package render

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

type specOption func(*servingv1alpha1.KalypsoTritonServerSpec)

func spec(opts ...specOption) servingv1alpha1.KalypsoTritonServerSpec {
	s := servingv1alpha1.KalypsoTritonServerSpec{
		ApplicationRef: servingv1alpha1.LocalObjectReference{Name: "app"},
		StorageURI:     "s3://bucket/models",
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func logLevel(l servingv1alpha1.LogLevel) specOption {
	return func(s *servingv1alpha1.KalypsoTritonServerSpec) {
		s.Observability = &servingv1alpha1.Observability{Logging: &servingv1alpha1.Logging{Level: l}}
	}
}

func TestArgsLogLevelsChangeOutput(t *testing.T) {
	cases := []struct {
		level servingv1alpha1.LogLevel
		want  []string
	}{
		{servingv1alpha1.LogLevelError, []string{"--log-verbose=0", "--log-info=false", "--log-warning=false", "--log-error=true"}},
		{servingv1alpha1.LogLevelWarning, []string{"--log-verbose=0", "--log-info=false", "--log-warning=true", "--log-error=true"}},
		{servingv1alpha1.LogLevelInfo, []string{"--log-verbose=0", "--log-info=true", "--log-warning=true", "--log-error=true"}},
		{servingv1alpha1.LogLevelVerbose, []string{"--log-verbose=1", "--log-info=true", "--log-warning=true", "--log-error=true"}},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run("level "+string(tc.level)+" switches Triton's log flags", func(t *testing.T) {
			args, err := Args(spec(logLevel(tc.level)), "srv", "s3://bucket/models")
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !slices.Contains(args, w) {
					t.Errorf("missing %s in %v", w, args)
				}
			}
			key := strings.Join(tc.want, " ")
			if seen[key] {
				t.Errorf("level %s renders the same flags as another level", tc.level)
			}
			seen[key] = true
		})
	}
}

func TestTraceRate(t *testing.T) {
	cases := []struct {
		name     string
		sampling string
		want     int64
		invalid  bool
	}{
		{"a ratio of 1 samples every request", "1", 1, false},
		{"a ratio of 1.0 samples every request", "1.0", 1, false},
		{"a ratio of 0.5 samples one in two", "0.5", 2, false},
		{"a ratio of .01 samples one in a hundred", ".01", 100, false},
		{"a ratio of 0.001 samples one in a thousand", "0.001", 1000, false},
		{"an integer N samples one in N", "250", 250, false},
		{"a ratio of 0.3 cannot be expressed by Triton", "0.3", 0, true},
		{"a ratio of 0.75 cannot be expressed by Triton", "0.75", 0, true},
		{"zero is refused", "0", 0, true},
		{"a ratio of 0.0 is refused", "0.0", 0, true},
		{"a negative rate is refused", "-1", 0, true},
		{"a fraction above one is refused", "1.5", 0, true},
		{"words are refused", "half", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TraceRate(tc.sampling)
			var specErr *InvalidSpecError
			if tc.invalid {
				if !errors.As(err, &specErr) {
					t.Fatalf("TraceRate(%q) = %d, %v; want an InvalidSpecError", tc.sampling, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("TraceRate(%q) = %d, %v; want %d", tc.sampling, got, err, tc.want)
			}
		})
	}
}

func TestRepository(t *testing.T) {
	app := func(st *servingv1alpha1.Storage) *servingv1alpha1.KalypsoApplication {
		return &servingv1alpha1.KalypsoApplication{Spec: servingv1alpha1.KalypsoApplicationSpec{Storage: st}}
	}
	cases := []struct {
		name    string
		uri     string
		app     *servingv1alpha1.KalypsoApplication
		want    string
		invalid bool
	}{
		{"an AWS S3 URI is passed through", "s3://bucket/path", app(&servingv1alpha1.Storage{Region: "eu-west-1"}), "s3://bucket/path", false},
		{"a MinIO endpoint is folded into the URI with its port",
			"s3://bucket/path", app(&servingv1alpha1.Storage{Endpoint: "http://minio:9000"}), "s3://http://minio:9000/bucket/path", false},
		{"an https endpoint without a port gets 443",
			"s3://bucket/path", app(&servingv1alpha1.Storage{Endpoint: "https://ceph.example.com"}), "s3://https://ceph.example.com:443/bucket/path", false},
		{"an http endpoint without a port gets 80",
			"s3://bucket/p", app(&servingv1alpha1.Storage{Endpoint: "http://ceph/"}), "s3://http://ceph:80/bucket/p", false},
		{"a GCS URI is passed through", "gs://bucket/m", nil, "gs://bucket/m", false},
		{"an Azure URI is passed through", "as://acct/container/m", nil, "as://acct/container/m", false},
		{"a PVC URI becomes the mount path", "pvc://claim/sub/dir", nil, "/mnt/models/sub/dir", false},
		{"a PVC URI without a path is the mount root", "pvc://claim", nil, "/mnt/models", false},
		{"a URI with .. is refused", "pvc://claim/../../etc", nil, "", true},
		{"a GCS URI with an s3 application is refused",
			"gs://bucket/m", app(&servingv1alpha1.Storage{Type: servingv1alpha1.StorageS3}), "", true},
		{"an endpoint with an Azure URI is refused",
			"as://acct/c/m", app(&servingv1alpha1.Storage{Endpoint: "http://minio:9000"}), "", true},
		{"an unknown scheme is refused", "ftp://host/m", nil, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := resolveStorage(tc.uri, tc.app, triton.Newest())
			if tc.invalid {
				var storageErr *InvalidStorageError
				if !errors.As(err, &storageErr) {
					t.Fatalf("want InvalidStorageError, got %v (%s)", err, st.repository)
				}
				return
			}
			if err != nil || st.repository != tc.want {
				t.Fatalf("repository = %q, %v; want %q", st.repository, err, tc.want)
			}
		})
	}
}

func TestArgsRejectBadParameters(t *testing.T) {
	cases := []struct {
		name  string
		param servingv1alpha1.TritonParameter
	}{
		{"an unknown option", servingv1alpha1.TritonParameter{Name: "turbo-mode", Value: "true"}},
		{"an operator-managed option", servingv1alpha1.TritonParameter{Name: "model-repository", Value: "/x"}},
		{"an integer option with a word", servingv1alpha1.TritonParameter{Name: "model-load-thread-count", Value: "many"}},
		{"a bool option with a word", servingv1alpha1.TritonParameter{Name: "reuse-http-port", Value: "maybe"}},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := Args(spec(func(s *servingv1alpha1.KalypsoTritonServerSpec) {
				s.TritonConfig.Parameters = []servingv1alpha1.TritonParameter{tc.param}
			}), "srv", "s3://b/m")
			var specErr *InvalidSpecError
			if !errors.As(err, &specErr) || !strings.Contains(err.Error(), tc.param.Name) {
				t.Fatalf("want an InvalidSpecError naming %s, got %v", tc.param.Name, err)
			}
		})
	}
}

func TestArgsExplicitModelsAndGPUs(t *testing.T) {
	args, err := Args(spec(func(s *servingv1alpha1.KalypsoTritonServerSpec) {
		s.TritonConfig.ModelControl = &servingv1alpha1.ModelControl{Mode: servingv1alpha1.ModelControlExplicit, Models: []string{"a", "b"}}
		s.GPUs = ptr.To[int32](1)
		s.Networking = servingv1alpha1.Networking{HTTPPort: 9000, GRPCPort: 9001, MetricsPort: 9002}
	}), "srv", "s3://b/m")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"--model-control-mode=explicit", "--load-model=a", "--load-model=b",
		"--allow-gpu-metrics=true", "--http-port=9000", "--grpc-port=9001", "--metrics-port=9002"} {
		if !slices.Contains(args, w) {
			t.Errorf("missing %s in %v", w, args)
		}
	}
	if err := triton.CheckArgs(args); err != nil {
		t.Fatal(err)
	}
}

func TestImage(t *testing.T) {
	cases := []struct {
		name string
		tc   servingv1alpha1.TritonConfig
		want string
	}{
		{"the default is the pinned release with the python variant", servingv1alpha1.TritonConfig{}, "nvcr.io/nvidia/tritonserver:" + DefaultRelease + "-py3"},
		{"vllm gets the vllm variant", servingv1alpha1.TritonConfig{BackendType: servingv1alpha1.BackendVLLM}, "nvcr.io/nvidia/tritonserver:" + DefaultRelease + "-vllm-python-py3"},
		{"tensorrtllm gets the trtllm variant", servingv1alpha1.TritonConfig{BackendType: servingv1alpha1.BackendTensorRTLLM}, "nvcr.io/nvidia/tritonserver:" + DefaultRelease + "-trtllm-python-py3"},
		{"a tag is used as given", servingv1alpha1.TritonConfig{Image: "my/triton", Tag: "25.01-py3"}, "my/triton:25.01-py3"},
		{"a registry port is not a tag", servingv1alpha1.TritonConfig{Image: "reg:5000/triton", Tag: "x"}, "reg:5000/triton:x"},
		{"a full reference wins over tag defaults", servingv1alpha1.TritonConfig{Image: "reg:5000/triton:pinned"}, "reg:5000/triton:pinned"},
		{"a digest is used as given", servingv1alpha1.TritonConfig{Image: "triton@sha256:abc"}, "triton@sha256:abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Image(tc.tc); got != tc.want {
				t.Errorf("Image = %s, want %s", got, tc.want)
			}
		})
	}
}

// Python settings a spec gives apply whatever the main backend (python
// pre/post-processing models beside onnx ones); without them a non-python
// backend gets none.
func TestArgsPythonSettingsWhateverTheBackend(t *testing.T) {
	onnx := func(s *servingv1alpha1.KalypsoTritonServerSpec) {
		s.TritonConfig.BackendType = servingv1alpha1.BackendType("onnxruntime")
	}
	withPython := func(s *servingv1alpha1.KalypsoTritonServerSpec) {
		size := int64(1 << 20)
		s.TritonConfig.PythonBackend = &servingv1alpha1.PythonBackend{ShmDefaultByteSize: &size, ExtraArgs: []string{"shm-growth-byte-size=1048576"}}
	}
	args, err := Args(spec(onnx, withPython), "srv", "s3://bucket/models")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--backend-config=python,shm-default-byte-size=1048576", "--backend-config=python,shm-growth-byte-size=1048576"} {
		if !slices.Contains(args, want) {
			t.Errorf("onnxruntime with python settings: %s missing from %v", want, args)
		}
	}
	plain, err := Args(spec(onnx), "srv", "s3://bucket/models")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plain {
		if strings.HasPrefix(a, "--backend-config=python,") {
			t.Errorf("onnxruntime without python settings got %s", a)
		}
	}
}

func TestRelease(t *testing.T) {
	cases := []struct {
		name    string
		tc      servingv1alpha1.TritonConfig
		want    string // Triton version; "" means refused
		wantErr string
	}{
		{"an unpinned server runs the default release", servingv1alpha1.TritonConfig{}, triton.Newest().Version, ""},
		{"a release tag selects its release", servingv1alpha1.TritonConfig{Tag: "24.12-py3"}, "2.53.0", ""},
		{"a full reference with a release tag", servingv1alpha1.TritonConfig{Image: "reg:5000/triton:23.05-py3"}, "2.34.0", ""},
		{"the patch release of 25.07", servingv1alpha1.TritonConfig{Tag: "25.07-vllm-python-py3"}, "2.59.1", ""},
		{"tritonVersion wins over a custom tag", servingv1alpha1.TritonConfig{Image: "my/triton:team-build", TritonVersion: "2.57.0"}, "2.57.0", ""},
		{"a digest needs tritonVersion", servingv1alpha1.TritonConfig{Image: "triton@sha256:abc"}, "", "set tritonConfig.tritonVersion"},
		{"a custom tag needs tritonVersion", servingv1alpha1.TritonConfig{Tag: "team-build"}, "", "set tritonConfig.tritonVersion"},
		{"a release older than the table", servingv1alpha1.TritonConfig{Tag: "22.12-py3"}, "", "does not know"},
		{"an unknown tritonVersion", servingv1alpha1.TritonConfig{TritonVersion: "2.99.0"}, "", "not a Triton release"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Release(tc.tc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Release = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Version != tc.want {
				t.Fatalf("Release = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// An option the selected release does not know fails the spec, naming the
// option and the release, before anything is rendered.
func TestArgsRefuseOptionsNewerThanTheRelease(t *testing.T) {
	spec := servingv1alpha1.KalypsoTritonServerSpec{StorageURI: "s3://bucket/models", TritonConfig: servingv1alpha1.TritonConfig{
		Tag: "24.12-py3", Parameters: []servingv1alpha1.TritonParameter{{Name: "grpc-infer-thread-count", Value: "4"}}}}
	_, err := Args(spec, "srv", "/models")
	var specErr *InvalidSpecError
	if !errors.As(err, &specErr) || !strings.Contains(err.Error(), "grpc-infer-thread-count") || !strings.Contains(err.Error(), "2.53.0") {
		t.Fatalf("Args on 24.12 with grpc-infer-thread-count = %v; want an InvalidSpecError naming option and release", err)
	}
	spec.TritonConfig.Tag = "25.04-py3"
	if _, err := Args(spec, "srv", "/models"); err != nil {
		t.Fatalf("Args on 25.04 = %v; want the option accepted", err)
	}
}
