package render

import (
	"regexp"
	"strings"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// DefaultImage is the NGC Triton image; an image without a tag runs
// DefaultRelease, the newest release of the option grammar, with the
// variant suffix chosen from the backend so that the image contains it. A
// server that does not pin a tag follows DefaultRelease, so an operator
// upgrade that moves it restarts such servers.
const DefaultImage = "nvcr.io/nvidia/tritonserver"

// DefaultRelease is the NGC release (YY.MM) of unpinned servers.
var DefaultRelease = triton.Newest().NGC

// AnnotationTritonVersion on a Deployment names the Triton release whose
// grammar its command line was checked against.
const AnnotationTritonVersion = "kalypso-serving.io/triton-version"

// imageVariant maps a backend to the NGC image tag suffix that ships it:
// -py3 holds the standard backends (python, pytorch, onnxruntime, tensorrt,
// openvino, tensorflow in releases that still ship it), vLLM and TensorRT-LLM
// come in their own images.
func imageVariant(b servingv1alpha1.BackendType) string {
	switch b {
	case servingv1alpha1.BackendVLLM:
		return "-vllm-python-py3"
	case servingv1alpha1.BackendTensorRTLLM:
		return "-trtllm-python-py3"
	default:
		return "-py3"
	}
}

// Image returns the image reference the server runs. A full reference in
// image (with a tag or digest) is used as written.
func Image(tc servingv1alpha1.TritonConfig) string {
	img := tc.Image
	if img == "" {
		img = DefaultImage
	}
	if strings.Contains(img, "@") || hasTag(img) {
		return img
	}
	tag := tc.Tag
	if tag == "" {
		backend := tc.BackendType
		if backend == "" {
			backend = servingv1alpha1.BackendPython
		}
		tag = DefaultRelease + imageVariant(backend)
	}
	return img + ":" + tag
}

// releaseTag is an NGC release tag: YY.MM, optionally with a variant.
var releaseTag = regexp.MustCompile(`^([0-9]{2}\.[0-9]{2})(-[A-Za-z0-9_.-]+)?$`)

// Release returns the Triton release the server runs, whose grammar its
// command line must follow: tritonVersion when set, otherwise the release
// the image tag names. An image by digest or with another tag needs
// tritonVersion (admission refuses it without).
func Release(tc servingv1alpha1.TritonConfig) (triton.Release, error) {
	if tc.TritonVersion != "" {
		r, ok := triton.ReleaseByVersion(tc.TritonVersion)
		if !ok {
			return triton.Release{}, invalidSpec("tritonConfig.tritonVersion %q is not a Triton release this operator knows", tc.TritonVersion)
		}
		return r, nil
	}
	img := Image(tc)
	last := img[strings.LastIndex(img, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	m := releaseTag.FindStringSubmatch(tag)
	if strings.Contains(img, "@") || !ok || m == nil {
		return triton.Release{}, invalidSpec("tritonConfig: image %q names no Triton release; set tritonConfig.tritonVersion", img)
	}
	r, known := triton.ReleaseByNGC(m[1])
	if !known {
		return triton.Release{}, invalidSpec("tritonConfig: image %q runs Triton release %s, which this operator does not know", img, m[1])
	}
	return r, nil
}

// hasTag reports whether the last path element of ref carries a :tag (a
// colon before the first slash is a registry port, not a tag).
func hasTag(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	return strings.Contains(last, ":")
}
