package render

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// Service renders the server's ClusterIP Service with named http, grpc and
// (when Triton serves them) metrics ports, selecting the pods by their stable identity labels.
func Service(in Input) *corev1ac.ServiceApplyConfiguration {
	srv := in.Server
	spec := withDefaults(srv.Spec)
	net := spec.Networking
	ports := []*corev1ac.ServicePortApplyConfiguration{
		servicePort("http", net.HTTPPort, "http"),
		servicePort("grpc", net.GRPCPort, "kubernetes.io/h2c"),
	}
	if MetricsEnabled(spec) {
		ports = append(ports, servicePort("metrics", net.MetricsPort, "http"))
	}
	return corev1ac.Service(srv.Name, srv.Namespace).
		WithLabels(Labels(in)).
		WithOwnerReferences(ownerReference(srv)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(SelectorLabels(srv.Name)).
			WithPorts(ports...))
}

func servicePort(name string, port int32, appProtocol string) *corev1ac.ServicePortApplyConfiguration {
	return corev1ac.ServicePort().
		WithName(name).
		WithProtocol(corev1.ProtocolTCP).
		WithAppProtocol(appProtocol).
		WithPort(port).
		WithTargetPort(intstr.FromString(name))
}

// Endpoints are the in-cluster addresses the server's Service exposes.
func Endpoints(srv *servingv1alpha1.KalypsoTritonServer) *servingv1alpha1.Endpoints {
	host := fmt.Sprintf("%s.%s.svc", srv.Name, srv.Namespace)
	spec := withDefaults(srv.Spec)
	net := spec.Networking
	e := &servingv1alpha1.Endpoints{
		HTTP: fmt.Sprintf("http://%s:%d", host, net.HTTPPort),
		GRPC: fmt.Sprintf("%s:%d", host, net.GRPCPort),
	}
	if MetricsEnabled(spec) {
		e.Metrics = fmt.Sprintf("http://%s:%d/metrics", host, net.MetricsPort)
	}
	return e
}
