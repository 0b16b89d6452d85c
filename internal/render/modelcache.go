package render

import (
	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// The local copy of a cloud model repository. Triton downloads an s3://,
// gs:// or as:// repository before loading it, by default into a temporary
// folder; its TRITON_<STORE>_MOUNT_DIRECTORY variable names an existing,
// empty directory instead. The operator points it at a volume of the size the
// spec asks for, and the container requests that much ephemeral storage (plus
// headroom for /tmp), so the scheduler places the pod where the copy fits and
// the environment's quota counts it.
const (
	modelCacheVolume = "model-cache"
	// ModelCacheMountPath is where the copy is made.
	ModelCacheMountPath = "/model-cache"
)

var (
	// DefaultModelCacheSize bounds the copy when the spec gives no size.
	DefaultModelCacheSize = resource.MustParse("20Gi")
	// tmpHeadroom is ephemeral storage left for /tmp and the container's
	// writable layer beside the copy.
	tmpHeadroom = resource.MustParse("1Gi")
)

// mountDirectoryVariable is the variable that tells Triton where to copy a
// repository of the given store.
var mountDirectoryVariable = map[servingv1alpha1.StorageType]string{
	servingv1alpha1.StorageS3:    "TRITON_AWS_MOUNT_DIRECTORY",
	servingv1alpha1.StorageGCS:   "TRITON_GCS_MOUNT_DIRECTORY",
	servingv1alpha1.StorageAzure: "TRITON_AZURE_MOUNT_DIRECTORY",
}

// modelCacheSize is the size of the copy, or zero for a repository Triton
// reads in place (pvc://).
func modelCacheSize(spec servingv1alpha1.KalypsoTritonServerSpec) resource.Quantity {
	if StorageTypeOf(spec.StorageURI) == "" {
		return resource.Quantity{}
	}
	if spec.ModelCacheSize != nil {
		return *spec.ModelCacheSize
	}
	return DefaultModelCacheSize
}

// mountDirectorySince is the first Triton release (2.38.0, NGC 23.09) whose
// core honours TRITON_<STORE>_MOUNT_DIRECTORY; older ones copy into /tmp.
const mountDirectorySince = 38

// withModelCache adds the sized volume, its mount and Triton's variable to a
// cloud repository's storage. A release that ignores the variable copies
// into /tmp, so there the /tmp volume gets the size instead.
func withModelCache(st storage, spec servingv1alpha1.KalypsoTritonServerSpec, rel triton.Release) storage {
	size := modelCacheSize(spec)
	if size.IsZero() {
		return st
	}
	if rel.Minor() < mountDirectorySince {
		limit := size.DeepCopy()
		limit.Add(tmpHeadroom)
		st.tmpSizeLimit = &limit
		return st
	}
	st.volumes = append(st.volumes, corev1ac.Volume().WithName(modelCacheVolume).
		WithEmptyDir(corev1ac.EmptyDirVolumeSource().WithSizeLimit(size)))
	st.mounts = append(st.mounts, corev1ac.VolumeMount().WithName(modelCacheVolume).WithMountPath(ModelCacheMountPath))
	st.env = append(st.env, corev1ac.EnvVar().WithName(mountDirectoryVariable[StorageTypeOf(spec.StorageURI)]).
		WithValue(ModelCacheMountPath))
	return st
}

// ephemeralStorage is the container's ephemeral-storage request and limit:
// the copy plus headroom for /tmp, unless the spec's resources set it.
func ephemeralStorage(spec servingv1alpha1.KalypsoTritonServerSpec) (resource.Quantity, bool) {
	size := modelCacheSize(spec)
	if size.IsZero() {
		return resource.Quantity{}, false
	}
	size.Add(tmpHeadroom)
	return size, true
}

// tmpVolume is the /tmp emptyDir, bounded when it holds the model copy.
func tmpVolume(st storage) *corev1ac.EmptyDirVolumeSourceApplyConfiguration {
	v := corev1ac.EmptyDirVolumeSource()
	if st.tmpSizeLimit != nil {
		v.WithSizeLimit(*st.tmpSizeLimit)
	}
	return v
}
