package render

import (
	"fmt"

	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
)

// Pod and container settings.
const (
	// ContainerName of the tritonserver container.
	ContainerName = "tritonserver"
	// tritonUID is the non-root triton-server user of the NGC Triton images.
	tritonUID int64 = 1000
	// DefaultStartupTimeoutSeconds bounds model loading before a restart.
	DefaultStartupTimeoutSeconds int32 = 1800
	probePeriodSeconds           int32 = 10
	probeTimeoutSeconds          int32 = 5
	livenessPeriodSeconds        int32 = 15
	// progressSlackSeconds is added to the startup budget for the
	// Deployment's progress deadline, so a slow model load is not reported
	// as a stuck rollout.
	progressSlackSeconds int32 = 300
	// terminationGraceSeconds lets in-flight inferences finish.
	terminationGraceSeconds int64 = 60
)

// DefaultShmSize is the memory-backed /dev/shm size when not set. Container
// runtimes give 64Mi, too small for the python backend's stub processes.
var DefaultShmSize = resource.MustParse("1Gi")

// Profiling annotations read by Grafana Alloy's Pyroscope components
// (annotation-based discovery of pods to profile).
const (
	annotationProfileCPU    = "profiles.grafana.com/cpu.scrape"
	annotationProfileMemory = "profiles.grafana.com/memory.scrape"
)

// Deployment renders the server's Deployment.
func Deployment(in Input) (*appsv1ac.DeploymentApplyConfiguration, error) {
	if in.Server == nil {
		return nil, errors.New("render: no server")
	}
	srv := in.Server
	spec := withDefaults(srv.Spec)
	rel, err := Release(spec.TritonConfig)
	if err != nil {
		return nil, err
	}
	st, err := resolveStorage(spec.StorageURI, in.Application, rel)
	if err != nil {
		return nil, err
	}
	st = withModelCache(st, spec, rel)
	argSpec := spec
	if LoadsModels(in) {
		// The operator loads the declared set on every pod; the command
		// line keeps mode explicit with nothing loaded at start.
		mc := *spec.TritonConfig.ModelControl
		mc.Models, mc.UnloadUndeclared = nil, nil
		argSpec.TritonConfig.ModelControl = &mc
	}
	args, err := Args(argSpec, srv.Name, st.repository)
	if err != nil {
		return nil, err
	}
	labels := Labels(in)
	pod, err := podSpec(spec, srv.Name, st, args)
	if err != nil {
		return nil, err
	}
	if LoadsModels(in) {
		pod.WithReadinessGates(corev1ac.PodReadinessGate().WithConditionType(ModelsReadyGate))
	}

	template := corev1ac.PodTemplateSpec().
		WithLabels(labels).
		WithAnnotations(podAnnotations(in, spec)).
		WithSpec(pod)
	templateHash, err := hashOf(template)
	if err != nil {
		return nil, err
	}
	maxSurge, maxUnavailable := RolloutStrategy(spec.Rollout)
	dep := appsv1ac.Deployment(srv.Name, srv.Namespace).
		WithLabels(labels).
		WithAnnotations(map[string]string{AnnotationTritonVersion: rel.Version, AnnotationTemplateHash: templateHash}).
		WithOwnerReferences(ownerReference(srv)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(srv.Name))).
			WithRevisionHistoryLimit(5).
			WithProgressDeadlineSeconds(startupTimeout(spec) + progressSlackSeconds).
			WithStrategy(appsv1ac.DeploymentStrategy().
				WithType("RollingUpdate").
				WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
					WithMaxUnavailable(maxUnavailable).
					WithMaxSurge(maxSurge))).
			WithTemplate(template))
	if spec.Autoscaling == nil {
		// Without an autoscaler the spec owns replicas; with one, the field
		// is left to the HorizontalPodAutoscaler.
		dep.Spec.WithReplicas(*spec.Replicas)
	}
	return dep, nil
}

func startupTimeout(spec servingv1alpha1.KalypsoTritonServerSpec) int32 {
	if spec.Probes != nil && spec.Probes.StartupTimeoutSeconds != nil {
		return *spec.Probes.StartupTimeoutSeconds
	}
	return DefaultStartupTimeoutSeconds
}

func podAnnotations(in Input, spec servingv1alpha1.KalypsoTritonServerSpec) map[string]string {
	ann := map[string]string{"kubectl.kubernetes.io/default-container": ContainerName}
	if in.SecretVersion != "" {
		ann[AnnotationStorageSecret] = in.SecretVersion
	}
	if o := spec.Observability; o != nil && o.Profiling != nil {
		if o.Profiling.CPU {
			ann[annotationProfileCPU] = "true"
		}
		if o.Profiling.Memory {
			ann[annotationProfileMemory] = "true"
		}
	}
	return ann
}

func podSpec(spec servingv1alpha1.KalypsoTritonServerSpec, server string, st storage, args []string) (*corev1ac.PodSpecApplyConfiguration, error) {
	shm := DefaultShmSize
	if pb := spec.TritonConfig.PythonBackend; pb != nil && pb.ShmSize != nil {
		shm = *pb.ShmSize
	}
	volumes := make([]*corev1ac.VolumeApplyConfiguration, 0, 2+len(st.volumes))
	volumes = append(volumes,
		corev1ac.Volume().WithName("dshm").WithEmptyDir(corev1ac.EmptyDirVolumeSource().
			WithMedium(corev1.StorageMediumMemory).WithSizeLimit(shm)),
		corev1ac.Volume().WithName("tmp").WithEmptyDir(tmpVolume(st)),
	)
	volumes = append(volumes, st.volumes...)

	c, err := container(spec, st, args)
	if err != nil {
		return nil, err
	}
	pod := corev1ac.PodSpec().
		WithEnableServiceLinks(false).
		WithTerminationGracePeriodSeconds(terminationGraceSeconds).
		WithSecurityContext(corev1ac.PodSecurityContext().
			WithRunAsNonRoot(true).
			WithRunAsUser(tritonUID).
			WithRunAsGroup(tritonUID).
			WithFSGroup(tritonUID).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
		WithContainers(c).
		WithVolumes(volumes...)
	if spec.ServiceAccountName != "" {
		pod.WithServiceAccountName(spec.ServiceAccountName)
	}
	for _, s := range spec.TritonConfig.ImagePullSecrets {
		pod.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(s.Name))
	}
	if err := applyScheduling(pod, spec, server); err != nil {
		return nil, fmt.Errorf("render scheduling: %w", err)
	}
	return pod, nil
}

func container(spec servingv1alpha1.KalypsoTritonServerSpec, st storage, args []string) (*corev1ac.ContainerApplyConfiguration, error) {
	net := spec.Networking
	mounts := make([]*corev1ac.VolumeMountApplyConfiguration, 0, 2+len(st.mounts))
	mounts = append(mounts,
		corev1ac.VolumeMount().WithName("dshm").WithMountPath("/dev/shm"),
		corev1ac.VolumeMount().WithName("tmp").WithMountPath("/tmp"),
	)
	mounts = append(mounts, st.mounts...)
	period, timeout, livenessPeriod := probeTiming(spec)
	startupFailures := (startupTimeout(spec) + period - 1) / period

	c := corev1ac.Container().
		WithName(ContainerName).
		WithImage(Image(spec.TritonConfig)).
		WithImagePullPolicy(spec.TritonConfig.ImagePullPolicy).
		WithCommand("tritonserver").
		WithArgs(args...).
		WithPorts(
			corev1ac.ContainerPort().WithName("http").WithContainerPort(net.HTTPPort).WithProtocol(corev1.ProtocolTCP),
			corev1ac.ContainerPort().WithName("grpc").WithContainerPort(net.GRPCPort).WithProtocol(corev1.ProtocolTCP),
		).
		WithStartupProbe(httpProbe("/v2/health/ready", net.HTTPPort, period, timeout, startupFailures)).
		WithReadinessProbe(httpProbe("/v2/health/ready", net.HTTPPort, period, timeout, 3)).
		WithLivenessProbe(httpProbe("/v2/health/live", net.HTTPPort, livenessPeriod, timeout, 3)).
		WithVolumeMounts(mounts...).
		WithSecurityContext(corev1ac.SecurityContext().
			WithAllowPrivilegeEscalation(false).
			WithRunAsNonRoot(true).
			WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")))
	if MetricsEnabled(spec) {
		c.WithPorts(corev1ac.ContainerPort().WithName("metrics").WithContainerPort(net.MetricsPort).WithProtocol(corev1.ProtocolTCP))
	}
	if len(st.env) > 0 {
		c.WithEnv(st.env...)
	}
	for i := range spec.Env {
		e, err := apply.Convert[corev1ac.EnvVarApplyConfiguration](spec.Env[i])
		if err != nil {
			return nil, fmt.Errorf("render env %s: %w", spec.Env[i].Name, err)
		}
		c.WithEnv(e)
	}
	if res := resources(spec); res != nil {
		c.WithResources(res)
	}
	return c, nil
}

func httpProbe(path string, port, period, timeout, failures int32) *corev1ac.ProbeApplyConfiguration {
	return corev1ac.Probe().
		WithHTTPGet(corev1ac.HTTPGetAction().WithPath(path).WithPort(intstr.FromInt32(port))).
		WithPeriodSeconds(period).
		WithTimeoutSeconds(timeout).
		WithFailureThreshold(failures)
}

// probeTiming returns the period of the startup and readiness checks, the
// timeout of every check and the liveness period (15 s, or the period when
// longer), from the spec or the defaults.
func probeTiming(spec servingv1alpha1.KalypsoTritonServerSpec) (period, timeout, liveness int32) {
	period, timeout = probePeriodSeconds, probeTimeoutSeconds
	if p := spec.Probes; p != nil {
		period = ptr.Deref(p.PeriodSeconds, period)
		timeout = ptr.Deref(p.TimeoutSeconds, timeout)
	}
	return period, timeout, max(period, livenessPeriodSeconds)
}

// resources merges the user's CPU/memory with GPUs, which are always equal
// requests and limits (Kubernetes requires it for extended resources).
func resources(spec servingv1alpha1.KalypsoTritonServerSpec) *corev1ac.ResourceRequirementsApplyConfiguration {
	limits := spec.Resources.Limits.DeepCopy()
	requests := spec.Resources.Requests.DeepCopy()
	if n := gpuCount(&spec); n > 0 {
		if limits == nil {
			limits = corev1.ResourceList{}
		}
		if requests == nil {
			requests = corev1.ResourceList{}
		}
		q := *resource.NewQuantity(int64(n), resource.DecimalSI)
		limits[corev1.ResourceName(spec.GPUResourceName)] = q
		requests[corev1.ResourceName(spec.GPUResourceName)] = q
	}
	if size, ok := ephemeralStorage(spec); ok {
		// The copy of a cloud repository, counted where the scheduler and
		// the quota see it; a size the spec's resources give wins.
		if limits == nil {
			limits = corev1.ResourceList{}
		}
		if requests == nil {
			requests = corev1.ResourceList{}
		}
		_, hasLimit := limits[corev1.ResourceEphemeralStorage]
		_, hasRequest := requests[corev1.ResourceEphemeralStorage]
		if !hasLimit && !hasRequest {
			limits[corev1.ResourceEphemeralStorage] = size
			requests[corev1.ResourceEphemeralStorage] = size
		}
	}
	if len(limits) == 0 && len(requests) == 0 {
		return nil
	}
	res := corev1ac.ResourceRequirements()
	if len(limits) > 0 {
		res.WithLimits(limits)
	}
	if len(requests) > 0 {
		res.WithRequests(requests)
	}
	return res
}

func applyScheduling(pod *corev1ac.PodSpecApplyConfiguration, spec servingv1alpha1.KalypsoTritonServerSpec, server string) error {
	s := spec.Scheduling
	if s == nil {
		s = &servingv1alpha1.Scheduling{}
	}
	if len(s.NodeSelector) > 0 {
		selector := make(map[string]string, len(s.NodeSelector))
		for k, v := range s.NodeSelector {
			selector[k] = string(v)
		}
		pod.WithNodeSelector(selector)
	}
	tolerations := s.Tolerations
	if gpuCount(&spec) > 0 && !toleratesGPU(tolerations) {
		tolerations = append(tolerations, servingv1alpha1.Toleration{
			Key: DefaultGPUResourceName, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
		})
	}
	for i := range tolerations {
		t, err := apply.Convert[corev1ac.TolerationApplyConfiguration](tolerations[i])
		if err != nil {
			return err
		}
		pod.WithTolerations(t)
	}
	if s.Affinity != nil {
		a, err := apply.Convert[corev1ac.AffinityApplyConfiguration](s.Affinity)
		if err != nil {
			return err
		}
		pod.WithAffinity(a)
	}
	for i := range s.TopologySpreadConstraints {
		c, err := spreadConstraint(s.TopologySpreadConstraints[i], server)
		if err != nil {
			return err
		}
		pod.WithTopologySpreadConstraints(c)
	}
	if s.RuntimeClassName != nil {
		pod.WithRuntimeClassName(*s.RuntimeClassName)
	}
	if s.PriorityClassName != "" {
		pod.WithPriorityClassName(s.PriorityClassName)
	}
	return nil
}

func toleratesGPU(ts []servingv1alpha1.Toleration) bool {
	for _, t := range ts {
		if t.Key == DefaultGPUResourceName || (t.Key == "" && t.Operator == corev1.TolerationOpExists) {
			return true
		}
	}
	return false
}

// spreadConstraint defaults an empty label selector to the server's pods,
// which is what a user spreading "this server" means.
func spreadConstraint(c servingv1alpha1.TopologySpreadConstraint, server string) (*corev1ac.TopologySpreadConstraintApplyConfiguration, error) {
	ac, err := apply.Convert[corev1ac.TopologySpreadConstraintApplyConfiguration](c)
	if err != nil {
		return nil, err
	}
	if c.LabelSelector == nil {
		ac.WithLabelSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(server)))
	}
	return ac, nil
}
