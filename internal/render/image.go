package render

import (
	"strings"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// Default Triton image. The release is pinned; the variant suffix is chosen
// from the backend so that the image actually contains it.
const (
	DefaultImage   = "nvcr.io/nvidia/tritonserver"
	DefaultRelease = "24.12"
)

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

// hasTag reports whether the last path element of ref carries a :tag (a
// colon before the first slash is a registry port, not a tag).
func hasTag(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	return strings.Contains(last, ":")
}
