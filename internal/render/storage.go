package render

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// Paths inside the tritonserver container.
const (
	pvcMountPath       = "/mnt/models"
	gcsCredentialsDir  = "/var/run/secrets/kalypso-serving/gcs"
	gcsCredentialsFile = "credentials.json"
)

// InvalidStorageError means the storage URI and the Application's storage
// settings cannot work together; the server is Stalled until the spec changes.
type InvalidStorageError struct{ Reason string }

func (e *InvalidStorageError) Error() string { return e.Reason }

func invalidStorage(format string, args ...any) error {
	return &InvalidStorageError{Reason: fmt.Sprintf(format, args...)}
}

// storage is what the model repository adds to the pod.
type storage struct {
	repository string
	env        []*corev1ac.EnvVarApplyConfiguration
	volumes    []*corev1ac.VolumeApplyConfiguration
	mounts     []*corev1ac.VolumeMountApplyConfiguration
	// tmpSizeLimit bounds /tmp when Triton copies the repository there.
	tmpSizeLimit *resource.Quantity
}

// StorageTypeOf returns the object-store type a storage URI needs, or "" for pvc://.
func StorageTypeOf(uri string) servingv1alpha1.StorageType {
	switch {
	case strings.HasPrefix(uri, "s3://"):
		return servingv1alpha1.StorageS3
	case strings.HasPrefix(uri, "gs://"):
		return servingv1alpha1.StorageGCS
	case strings.HasPrefix(uri, "as://"):
		return servingv1alpha1.StorageAzure
	default:
		return ""
	}
}

// resolveStorage turns the server's storageUri and the Application's storage
// settings into Triton's --model-repository and the pod's credentials.
func resolveStorage(uri string, app *servingv1alpha1.KalypsoApplication, rel triton.Release) (storage, error) {
	var st *servingv1alpha1.Storage
	if app != nil && app.Spec.Storage != nil {
		st = app.Spec.Storage
	}
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || rest == "" {
		return storage{}, invalidStorage("storageUri %q has no scheme or location", uri)
	}
	if strings.Contains(uri, "/../") || strings.HasSuffix(uri, "/..") {
		return storage{}, invalidStorage("storageUri %q must not contain .. segments", uri)
	}
	if want := StorageTypeOf(uri); st != nil && st.Type != "" && want != "" && st.Type != want {
		return storage{}, invalidStorage("storageUri scheme %s:// needs storage type %s but the application declares %s", scheme, want, st.Type)
	}
	switch scheme {
	case "s3":
		return s3Storage(rest, st)
	case "gs", "as":
		return objectStoreStorage(scheme, uri, st, rel)
	case "pvc":
		return pvcStorage(rest)
	default:
		return storage{}, invalidStorage("storageUri scheme %q is not one of s3, gs, as, pvc", scheme)
	}
}

// objectStoreStorage resolves a gs:// or as:// repository, whose stores
// take neither an endpoint nor a region.
func objectStoreStorage(scheme, uri string, st *servingv1alpha1.Storage, rel triton.Release) (storage, error) {
	if st != nil && (st.Endpoint != "" || st.Region != "") {
		return storage{}, invalidStorage("the application's storage.endpoint and storage.region apply to "+
			"S3-compatible stores only; Triton would ignore them for %s:// URIs", scheme)
	}
	if scheme == "gs" {
		return gcsStorage(uri, st), nil
	}
	if (st == nil || st.SecretRef == nil) && rel.Minor() < azureIdentitySince {
		return storage{}, invalidStorage("an as:// repository without storage.secretRef authenticates with the pod's "+
			"workload identity, which Triton supports from release 2.69.0 (NGC 26.05); the image runs %s: "+
			"give the application a secretRef with an account key, or pin a newer tag", rel)
	}
	return azureStorage(uri, st), nil
}

func s3Storage(rest string, st *servingv1alpha1.Storage) (storage, error) {
	out := storage{repository: "s3://" + rest}
	if st != nil && st.Endpoint != "" {
		// Triton ignores AWS_ENDPOINT_URL; a custom endpoint must be part of
		// the URI as s3://<scheme>://<host>:<port>/<bucket>/<path>, port included.
		ep, err := url.Parse(strings.TrimSuffix(st.Endpoint, "/"))
		if err != nil || ep.Host == "" || (ep.Scheme != "http" && ep.Scheme != "https") {
			return storage{}, invalidStorage("storage.endpoint %q must be http(s)://host[:port]", st.Endpoint)
		}
		host := ep.Host
		if ep.Port() == "" {
			if ep.Scheme == "https" {
				host += ":443"
			} else {
				host += ":80"
			}
		}
		out.repository = fmt.Sprintf("s3://%s://%s/%s", ep.Scheme, host, rest)
	}
	if st == nil {
		return out, nil
	}
	if st.SecretRef != nil {
		out.env = append(out.env,
			secretEnv("AWS_ACCESS_KEY_ID", st.SecretRef.Name, servingv1alpha1.SecretKeyAWSAccessKeyID, false),
			secretEnv("AWS_SECRET_ACCESS_KEY", st.SecretRef.Name, servingv1alpha1.SecretKeyAWSSecretAccessKey, false),
			secretEnv("AWS_SESSION_TOKEN", st.SecretRef.Name, servingv1alpha1.SecretKeyAWSSessionToken, true),
		)
	}
	if st.Region != "" {
		out.env = append(out.env, corev1ac.EnvVar().WithName("AWS_DEFAULT_REGION").WithValue(st.Region))
	}
	return out, nil
}

func gcsStorage(uri string, st *servingv1alpha1.Storage) storage {
	out := storage{repository: uri}
	if st == nil || st.SecretRef == nil {
		return out
	}
	out.volumes = append(out.volumes, corev1ac.Volume().WithName("gcs-credentials").
		WithSecret(corev1ac.SecretVolumeSource().
			WithSecretName(st.SecretRef.Name).
			WithDefaultMode(0o440).
			WithItems(corev1ac.KeyToPath().WithKey(servingv1alpha1.SecretKeyGCSCredentials).WithPath(gcsCredentialsFile))))
	out.mounts = append(out.mounts, corev1ac.VolumeMount().WithName("gcs-credentials").
		WithMountPath(gcsCredentialsDir).WithReadOnly(true))
	out.env = append(out.env, corev1ac.EnvVar().WithName("GOOGLE_APPLICATION_CREDENTIALS").
		WithValue(path.Join(gcsCredentialsDir, gcsCredentialsFile)))
	return out
}

// azureIdentitySince is the first Triton release (2.69.0, NGC 26.05) whose
// Azure filesystem authenticates without an account key
// (AZURE_STORAGE_AUTH_TYPE); "default" uses the Azure SDK's default chain,
// which includes AKS workload identity.
const azureIdentitySince = 69

func azureStorage(uri string, st *servingv1alpha1.Storage) storage {
	out := storage{repository: uri}
	if st == nil || st.SecretRef == nil {
		out.env = append(out.env, corev1ac.EnvVar().WithName("AZURE_STORAGE_AUTH_TYPE").WithValue("default"))
		return out
	}
	out.env = append(out.env,
		secretEnv("AZURE_STORAGE_ACCOUNT", st.SecretRef.Name, servingv1alpha1.SecretKeyAzureAccount, false),
		secretEnv("AZURE_STORAGE_KEY", st.SecretRef.Name, servingv1alpha1.SecretKeyAzureKey, false),
	)
	return out
}

func pvcStorage(rest string) (storage, error) {
	claim, sub, _ := strings.Cut(rest, "/")
	if claim == "" {
		return storage{}, invalidStorage("pvc:// storageUri needs a claim name")
	}
	repo := path.Join(pvcMountPath, path.Clean("/"+sub))
	return storage{
		repository: repo,
		volumes: []*corev1ac.VolumeApplyConfiguration{corev1ac.Volume().WithName("model-repository").
			WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(claim).WithReadOnly(true))},
		mounts: []*corev1ac.VolumeMountApplyConfiguration{corev1ac.VolumeMount().WithName("model-repository").
			WithMountPath(pvcMountPath).WithReadOnly(true)},
	}, nil
}

func secretEnv(name, secret, key string, optional bool) *corev1ac.EnvVarApplyConfiguration {
	ref := corev1ac.SecretKeySelector().WithName(secret).WithKey(key)
	if optional {
		ref = ref.WithOptional(true)
	}
	return corev1ac.EnvVar().WithName(name).WithValueFrom(corev1ac.EnvVarSource().WithSecretKeyRef(ref))
}

// RequiredSecretKeys lists the keys a storage type reads from the Secret.
func RequiredSecretKeys(t servingv1alpha1.StorageType) []string {
	switch t {
	case servingv1alpha1.StorageS3:
		return []string{servingv1alpha1.SecretKeyAWSAccessKeyID, servingv1alpha1.SecretKeyAWSSecretAccessKey}
	case servingv1alpha1.StorageGCS:
		return []string{servingv1alpha1.SecretKeyGCSCredentials}
	case servingv1alpha1.StorageAzure:
		return []string{servingv1alpha1.SecretKeyAzureAccount, servingv1alpha1.SecretKeyAzureKey}
	default:
		return nil
	}
}
