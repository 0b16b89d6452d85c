package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"k8s.io/apimachinery/pkg/util/intstr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// AnnotationTemplateHash on a Deployment identifies its rendered pod
// template: a rollout starts exactly when it changes, and only then is the
// rollout strategy fitted to the environment's quota.
const AnnotationTemplateHash = "kalypso-serving.io/template-hash"

// RolloutStrategy returns maxSurge and maxUnavailable: one surge pod and
// none unavailable unless the spec says otherwise.
func RolloutStrategy(r *servingv1alpha1.Rollout) (maxSurge, maxUnavailable intstr.IntOrString) {
	maxSurge, maxUnavailable = intstr.FromInt32(1), intstr.FromInt32(0)
	if r == nil {
		return maxSurge, maxUnavailable
	}
	if r.MaxSurge != nil {
		maxSurge = *r.MaxSurge
	}
	if r.MaxUnavailable != nil {
		maxUnavailable = *r.MaxUnavailable
	}
	return maxSurge, maxUnavailable
}

// ExplicitRollout reports whether the spec sets the strategy itself.
func ExplicitRollout(r *servingv1alpha1.Rollout) bool {
	return r != nil && (r.MaxSurge != nil || r.MaxUnavailable != nil)
}

// hashOf is a short digest of v's JSON encoding.
func hashOf(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12]), nil
}
