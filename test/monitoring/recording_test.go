package monitoring

import (
	"math"
	"testing"
	"time"
)

// recordingCase is one scenario for the per-pod recording rules: Triton's
// counters scraped every 15 seconds and the value each pod must get, worked
// out by hand in the comments.
type recordingCase struct {
	name   string
	load   string
	at     time.Duration
	record string
	want   map[string]float64 // by pod; a pod not listed must have no value
}

const (
	podA = `namespace="team-a", service="resnet", pod="resnet-a", job="resnet"`
	podB = `namespace="team-a", service="resnet", pod="resnet-b", job="resnet"`
	podC = `namespace="team-b", service="bert", pod="bert-c", job="bert"`
)

var recordingCases = []recordingCase{
	{
		// Model a: 1 request/s queued 1000µs each; model b never called.
		// Summing before dividing: 1000µs. A per-model ratio would be
		// undefined for b and drag an average of ratios to NaN.
		name: "two models on one pod, one idle", at: 5 * time.Minute,
		record: "kalypso:triton_queue_duration_us_per_request:rate1m",
		load: `load 15s
  nv_inference_request_success{` + podA + `, model="a", version="1"} 0+15x40
  nv_inference_queue_duration_us{` + podA + `, model="a", version="1"} 0+15000x40
  nv_inference_request_success{` + podA + `, model="b", version="1"} 0x40
  nv_inference_queue_duration_us{` + podA + `, model="b", version="1"} 0x40`,
		want: map[string]float64{"resnet-a": 1000},
	},
	{
		// a: 1 request/s at 1000µs, b: 3 requests/s at 200µs. Per request
		// over the pod: (1×1000 + 3×200) / 4 = 400µs, not the 600µs an
		// average of the two ratios gives.
		name: "two busy models weighted by their requests", at: 5 * time.Minute,
		record: "kalypso:triton_queue_duration_us_per_request:rate1m",
		load: `load 15s
  nv_inference_request_success{` + podA + `, model="a", version="1"} 0+15x40
  nv_inference_queue_duration_us{` + podA + `, model="a", version="1"} 0+15000x40
  nv_inference_request_success{` + podA + `, model="b", version="1"} 0+45x40
  nv_inference_queue_duration_us{` + podA + `, model="b", version="1"} 0+9000x40`,
		want: map[string]float64{"resnet-a": 400},
	},
	{
		// Model a is reloaded at 5m15s: its counters restart from one
		// scrape's worth (15 requests, 15000µs) while b's keep growing.
		// rate() per model absorbs the reset; a at 1000µs and b at 3000µs,
		// 1 request/s each: 2000µs. Summing the counters first would see
		// the pod's total drop and report a reset for both models.
		name: "counter reset of one model", at: 5*time.Minute + 30*time.Second,
		record: "kalypso:triton_queue_duration_us_per_request:rate1m",
		load: `load 15s
  nv_inference_request_success{` + podA + `, model="a", version="1"} 0+15x20 15+15x20
  nv_inference_queue_duration_us{` + podA + `, model="a", version="1"} 0+15000x20 15000+15000x20
  nv_inference_request_success{` + podA + `, model="b", version="1"} 0+15x41
  nv_inference_queue_duration_us{` + podA + `, model="b", version="1"} 0+45000x41`,
		want: map[string]float64{"resnet-a": 2000},
	},
	{
		// resnet-a 1000µs, resnet-b 5000µs (same server), bert-c idle: no
		// value for bert-c rather than a division by zero.
		name: "several pods", at: 5 * time.Minute,
		record: "kalypso:triton_queue_duration_us_per_request:rate1m",
		load: `load 15s
  nv_inference_request_success{` + podA + `, model="a", version="1"} 0+15x40
  nv_inference_queue_duration_us{` + podA + `, model="a", version="1"} 0+15000x40
  nv_inference_request_success{` + podB + `, model="a", version="1"} 0+30x40
  nv_inference_queue_duration_us{` + podB + `, model="a", version="1"} 0+150000x40
  nv_inference_request_success{` + podC + `, model="q", version="1"} 7x40
  nv_inference_queue_duration_us{` + podC + `, model="q", version="1"} 900x40`,
		want: map[string]float64{"resnet-a": 1000, "resnet-b": 5000},
	},
	{
		// a spends 0.5 s of request time per second, b 1.5 s: 2 requests
		// in flight on average (Little's law), an idle pod 0.
		name: "requests in flight per pod", at: 5 * time.Minute,
		record: "kalypso:triton_inflight_requests:rate1m",
		load: `load 15s
  nv_inference_request_duration_us{` + podA + `, model="a", version="1"} 0+7500000x40
  nv_inference_request_duration_us{` + podA + `, model="b", version="1"} 0+22500000x40
  nv_inference_request_duration_us{` + podC + `, model="q", version="1"} 100x40`,
		want: map[string]float64{"resnet-a": 2, "bert-c": 0},
	},
	{
		name: "pending requests per pod", at: 5 * time.Minute,
		record: "kalypso:triton_pending_requests:sum",
		load: `load 15s
  nv_inference_pending_request_count{` + podA + `, model="a", version="1"} 3x40
  nv_inference_pending_request_count{` + podA + `, model="b", version="1"} 2x40
  nv_inference_pending_request_count{` + podB + `, model="a", version="1"} 0x40`,
		want: map[string]float64{"resnet-a": 5, "resnet-b": 0},
	},
}

// TestRecordingRules evaluates the recording rules over each scenario and
// compares the recorded per-pod series with the hand computations; each
// recorded series also carries the server's name for joins with the
// operator's per-server metrics.
func TestRecordingRules(t *testing.T) {
	for _, c := range recordingCases {
		t.Run(c.name, func(t *testing.T) {
			run := newRuleRun(t, c.load)
			run.until(t, c.at)
			got := run.instant(t, c.record, c.at)
			seen := map[string]bool{}
			for _, s := range got {
				pod := s.Metric.Get("pod")
				seen[pod] = true
				want, ok := c.want[pod]
				if !ok {
					t.Errorf("%s{pod=%q} = %v, want no value", c.record, pod, s.F)
					continue
				}
				if math.Abs(s.F-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("%s{pod=%q} = %v, want %v", c.record, pod, s.F, want)
				}
				if s.Metric.Get("server") == "" || s.Metric.Get("server") != s.Metric.Get("service") {
					t.Errorf("%s{pod=%q} has server %q, want the service's name", c.record, pod, s.Metric.Get("server"))
				}
				t.Logf("%s{pod=%q} = %v (want %v)", c.record, pod, s.F, want)
			}
			for pod := range c.want {
				if !seen[pod] {
					t.Errorf("%s{pod=%q}: no value, want %v", c.record, pod, c.want[pod])
				}
			}
		})
	}
}
