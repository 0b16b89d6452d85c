package triton

import (
	"strings"
	"testing"
)

// violations counts the violations in a joined error: one line each.
func violations(err error) int {
	if err == nil {
		return 0
	}
	return strings.Count(err.Error(), "\n") + 1
}

func TestCrossChecksAccept(t *testing.T) {
	const repo = "--model-repository=/m "
	tests := []struct {
		name string
		args string
	}{
		{"SageMaker on its default port beside the default endpoints is valid.", repo + "--allow-sagemaker=true"},
		{"Vertex AI on its default port beside the default endpoints is valid.", repo + "--allow-vertex-ai=true"},
		{"SageMaker and Vertex AI on different ports are valid.",
			repo + "--allow-sagemaker=true --allow-vertex-ai=true --vertex-ai-port=8090"},
		{"A SageMaker port counts only while SageMaker is enabled.", repo + "--sagemaker-port=8000"},
		{"A disabled SageMaker endpoint may name a taken port.", repo + "--allow-sagemaker=false --sagemaker-port=8001"},
		{"A disabled Vertex AI endpoint may name a taken port.", repo + "--allow-vertex-ai=off --vertex-ai-port=8002"},
		{"SageMaker may take the port of a disabled HTTP endpoint.", repo + "--allow-http=false --allow-sagemaker=true --sagemaker-port=8000"},
		{"A disabled GRPC endpoint does not collide.", repo + "--allow-grpc=false --grpc-port=8000"},
		{"Vertex AI may take the port of disabled metrics.", repo + "--allow-metrics=false --allow-vertex-ai=1 --vertex-ai-port=8002"},
		{"A safe range holding every other endpoint is valid; SageMaker's own port may lie outside.",
			repo + "--allow-sagemaker=true --sagemaker-safe-port-range=8000-8002"},
		{"A safe range counts only while SageMaker is enabled.", repo + "--sagemaker-safe-port-range=9000-9100"},
		{"A safe range leaves disabled endpoints alone.",
			repo + "--allow-sagemaker=true --allow-metrics=false --sagemaker-safe-port-range=8000-8001"},
		{"A safe range may hold moved endpoints and Vertex AI.",
			repo + "--http-port=9000 --grpc-port=9001 --metrics-port=9002 --allow-sagemaker=true --allow-vertex-ai=true " +
				"--vertex-ai-port=9003 --sagemaker-safe-port-range=9000-9003"},
		{"A host policy may bind a NUMA node.", repo + "--host-policy=gpu_0,numa-node=0 --host-policy=gpu_1,numa-node=63"},
		{"A host policy may list core ranges.", repo + "--host-policy=gpu_0,cpu-cores=0-3,8-11 --host-policy=gpu_1,cpu-cores=5-5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckArgs(fields(tt.args)); err != nil {
				t.Errorf("CheckArgs refused a command line Triton accepts:\n%v", err)
			}
		})
	}
}

func TestCrossChecksReject(t *testing.T) {
	const repo = "--model-repository=/m "
	tests := []struct {
		name    string
		args    string
		wantIs  error
		wantMsg string
		want    int // violations
	}{
		{"SageMaker may not take the default HTTP port.", repo + "--allow-sagemaker=true --sagemaker-port=8000",
			ErrConflict, `option "sagemaker-port": conflicting options: port 8000 is also used by --http-port (absent`, 1},
		{"HTTP may not take SageMaker's default port.", repo + "--allow-sagemaker=true --http-port=8080",
			ErrConflict, `option "sagemaker-port": conflicting options: port 8080 is also used by --http-port;`, 1},
		{"SageMaker may not take the GRPC port.", repo + "--allow-sagemaker=on --grpc-port=9001 --sagemaker-port=9001",
			ErrConflict, "port 9001 is also used by --grpc-port", 1},
		{"Vertex AI may not take the default metrics port.", repo + "--allow-vertex-ai=TRUE --vertex-ai-port=8002",
			ErrConflict, `option "vertex-ai-port": conflicting options: port 8002 is also used by --metrics-port`, 1},
		{"Vertex AI may not take a moved metrics port.", repo + "--allow-vertex-ai=1 --metrics-port=8080",
			ErrConflict, `option "vertex-ai-port": conflicting options: port 8080 is also used by --metrics-port`, 1},
		{"SageMaker and Vertex AI may not both keep their default port.", repo + "--allow-sagemaker=true --allow-vertex-ai=true",
			ErrConflict, `option "vertex-ai-port": conflicting options: port 8080 is also used by --sagemaker-port (absent`, 1},
		{"SageMaker and Vertex AI may not share a given port.",
			repo + "--allow-sagemaker=true --allow-vertex-ai=true --sagemaker-port=9000 --vertex-ai-port=9000",
			ErrConflict, "port 9000 is also used by --sagemaker-port;", 1},
		{"Enabling GRPC explicitly keeps its port checked.", repo + "--allow-grpc=true --grpc-port=8000",
			ErrConflict, "port 8000 is also used by --http-port", 1},
		{"A safe range must hold every other enabled endpoint.",
			repo + "--allow-sagemaker=true --sagemaker-safe-port-range=9000-9100",
			ErrConflict, `option "sagemaker-safe-port-range": conflicting options: port 8000 of --http-port (absent`, 3},
		{"A safe range must hold the metrics port too.",
			repo + "--allow-sagemaker=true --sagemaker-safe-port-range=8000-8001",
			ErrConflict, "port 8002 of --metrics-port (absent, so Triton's default) is outside 8000-8001", 1},
		{"A safe range must hold a given port.",
			repo + "--allow-sagemaker=true --http-port=7999 --sagemaker-safe-port-range=8000-8002",
			ErrConflict, "port 7999 of --http-port is outside 8000-8002", 1},
		{"A safe range must hold the Vertex AI port.",
			repo + "--allow-sagemaker=true --allow-vertex-ai=true --vertex-ai-port=9000 --sagemaker-safe-port-range=8000-8002",
			ErrConflict, "port 9000 of --vertex-ai-port is outside 8000-8002", 1},
		{"A host policy setting must be one Triton knows.", repo + "--host-policy=gpu_0,numa=0",
			ErrInvalidValue, `unknown setting "numa"; Triton knows numa-node and cpu-cores`, 1},
		{"Host policy settings are compared case-sensitively.", repo + "--host-policy=gpu_0,NUMA-NODE=0",
			ErrInvalidValue, `option "host-policy"`, 1},
		{"A comma in the setting does not hide an unknown one.", repo + "--host-policy=gpu_0,a,numa-node=0",
			ErrInvalidValue, `unknown setting "a,numa-node"`, 1},
		{"A NUMA node is an integer.", repo + "--host-policy=gpu_0,numa-node=first", ErrInvalidValue, "not an integer", 1},
		{"A NUMA node is not negative.", repo + "--host-policy=gpu_0,numa-node=-1", ErrInvalidValue, "negative", 1},
		{"A NUMA node fits Triton's one-word node mask.", repo + "--host-policy=gpu_0,numa-node=64", ErrInvalidValue, "above the maximum 63", 1},
		{"Cores are given as ranges.", repo + "--host-policy=gpu_0,cpu-cores=3", ErrInvalidValue, `"3" is not a range`, 1},
		{"A core range is not empty.", repo + "--host-policy=gpu_0,cpu-cores=4-1", ErrInvalidValue, `range "4-1" is empty`, 1},
		{"A core list does not end in a comma.", repo + "--host-policy=gpu_0,cpu-cores=0-3,", ErrInvalidValue, `"" is not a range`, 1},
		{"Core numbers are integers.", repo + "--host-policy=gpu_0,cpu-cores=0-3,a-b", ErrInvalidValue, "first core", 1},
		{"A last core is an integer.", repo + "--host-policy=gpu_0,cpu-cores=0-x", ErrInvalidValue, "last core", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckArgs(fields(tt.args))
			checkErr(t, err, tt.wantIs, tt.wantMsg)
			if got := violations(err); got != tt.want {
				t.Errorf("want %d violations, got %d:\n%v", tt.want, got, err)
			}
		})
	}
}

func TestCrossChecksApplyToEveryRelease(t *testing.T) {
	for _, r := range Releases() {
		checkErr(t, CheckArgsFor(r, fields("--model-repository=/m --allow-sagemaker=true --allow-vertex-ai=true")),
			ErrConflict, "port 8080")
		checkErr(t, CheckArgsFor(r, fields("--model-repository=/m --allow-sagemaker=true --sagemaker-safe-port-range=1-2")),
			ErrConflict, "outside 1-2")
		checkErr(t, CheckArgsFor(r, fields("--model-repository=/m --host-policy=p,numa=1")), ErrInvalidValue, "numa-node and cpu-cores")
		checkErr(t, CheckArgsFor(r, fields("--model-repository=/m --allow-sagemaker=true --host-policy=p,cpu-cores=0-1")), nil, "")
	}
}

func TestCrossChecksSkipInvalidValues(t *testing.T) {
	// A switch, port or range with an invalid value is reported once; no
	// conflict is derived from it.
	for _, args := range []string{
		"--allow-sagemaker=maybe --sagemaker-port=8000",
		"--allow-vertex-ai=true --vertex-ai-port=port --allow-sagemaker=true",
		"--allow-sagemaker=true --sagemaker-safe-port-range=9000",
		"--allow-http=sometimes --allow-sagemaker=true --sagemaker-port=8000 --sagemaker-safe-port-range=8000-8080",
	} {
		err := CheckArgs(fields("--model-repository=/m " + args))
		checkErr(t, err, ErrInvalidValue, "")
		if violations(err) != 1 {
			t.Errorf("%s: want the invalid value alone, got:\n%v", args, err)
		}
	}
}
