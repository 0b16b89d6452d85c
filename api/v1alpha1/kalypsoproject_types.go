package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodSecurityLevel is a Pod Security Standards level.
// +kubebuilder:validation:Enum=privileged;baseline;restricted
type PodSecurityLevel string

const (
	PodSecurityPrivileged PodSecurityLevel = "privileged"
	PodSecurityBaseline   PodSecurityLevel = "baseline"
	PodSecurityRestricted PodSecurityLevel = "restricted"
)

// DeletionPolicy says what happens to an environment's namespace when the
// environment is removed from the spec or the project is deleted.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

const (
	// DeletionPolicyDelete deletes the namespace and everything in it.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyRetain releases the namespace (owner reference removed) and keeps it.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// NetworkIsolationMode selects the environment's ingress policy.
// +kubebuilder:validation:Enum=Isolated;None
type NetworkIsolationMode string

const (
	// NetworkIsolationIsolated denies ingress except from the namespace itself,
	// the monitoring namespace and the ingress gateway namespace.
	NetworkIsolationIsolated NetworkIsolationMode = "Isolated"
	// NetworkIsolationNone creates no NetworkPolicy.
	NetworkIsolationNone NetworkIsolationMode = "None"
)

// KalypsoProjectSpec defines a tenant workspace.
// +kubebuilder:validation:XValidation:rule="!has(self.environments) || self.environments.all(e, !has(e.__namespace__) || self.environments.exists_one(o, has(o.__namespace__) && o.__namespace__ == e.__namespace__))",message="environments[].namespace must be unique within the project"
type KalypsoProjectSpec struct {
	// DisplayName is a human-readable name.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName,omitempty"`

	// Owner is the owning team, shown in printer columns.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Owner string `json:"owner,omitempty"`

	// Environments are the places the project serves models in (dev, stage,
	// prod, ...); each is a namespace the operator creates and governs.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Environments []Environment `json:"environments,omitempty"`

	// DeletionPolicy applies to environment namespaces when an environment is
	// removed or the project is deleted.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// Environment is one governed namespace of a project.
type Environment struct {
	// Name of the environment, e.g. dev, stage or prod.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Namespace to create; defaults to <project>-<environment>. It must not
	// exist already unless this project created it.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('kube-') && self != 'default'",message="namespace must not be default or a kube- system namespace"
	Namespace string `json:"namespace,omitempty"`

	// Description of the environment.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Description string `json:"description,omitempty"`

	// ResourceQuota for the namespace. Keys are plain resource names
	// (cpu, memory, nvidia.com/gpu, ...); the operator writes the keys
	// Kubernetes enforces (limits.cpu, requests.nvidia.com/gpu, ...).
	// +optional
	ResourceQuota *ResourceQuota `json:"resourceQuota,omitempty"`

	// LimitRange for the namespace.
	// +optional
	LimitRange *LimitRange `json:"limitRange,omitempty"`

	// PodSecurity is the Pod Security Standards level enforced, warned and
	// audited in the namespace.
	// +optional
	// +kubebuilder:default=restricted
	PodSecurity PodSecurityLevel `json:"podSecurity,omitempty"`

	// NetworkIsolation of the namespace.
	// +optional
	NetworkIsolation *NetworkIsolation `json:"networkIsolation,omitempty"`

	// Access grants the project's people the Kalypso roles in this namespace.
	// +optional
	Access *Access `json:"access,omitempty"`
}

// ResourceQuota is the seed's quota shape: plain resource names under
// limits and requests.
// +kubebuilder:validation:XValidation:rule="!has(self.limits) || self.limits.all(k, !k.startsWith('limits.') && !k.startsWith('requests.'))",message="resourceQuota.limits keys are plain resource names such as cpu or nvidia.com/gpu, without a limits. or requests. prefix"
// +kubebuilder:validation:XValidation:rule="!has(self.requests) || self.requests.all(k, !k.startsWith('limits.') && !k.startsWith('requests.'))",message="resourceQuota.requests keys are plain resource names such as cpu or nvidia.com/gpu, without a limits. or requests. prefix"
type ResourceQuota struct {
	// Limits caps the sum of container limits. An extended resource such as
	// nvidia.com/gpu is enforced on requests (requests always equal limits
	// for extended resources).
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Limits corev1.ResourceList `json:"limits,omitempty"`

	// Requests caps the sum of container requests.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Requests corev1.ResourceList `json:"requests,omitempty"`

	// Hard holds object-count and other quota keys passed through as
	// written (pods, services, count/deployments.apps, ...).
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Hard corev1.ResourceList `json:"hard,omitempty"`
}

// LimitRange holds the namespace's default and maximum container resources.
type LimitRange struct {
	// Limits of the LimitRange.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	Limits []corev1.LimitRangeItem `json:"limits"`
}

// NetworkIsolation configures the environment's ingress NetworkPolicy.
type NetworkIsolation struct {
	// Mode: Isolated (default) or None.
	// +optional
	// +kubebuilder:default=Isolated
	Mode NetworkIsolationMode `json:"mode,omitempty"`

	// MonitoringNamespace may reach the servers' metrics (default "monitoring").
	// +optional
	// +kubebuilder:validation:MaxLength=63
	MonitoringNamespace string `json:"monitoringNamespace,omitempty"`

	// IngressNamespace hosts the ingress gateway allowed in (default "ingress-nginx").
	// +optional
	// +kubebuilder:validation:MaxLength=63
	IngressNamespace string `json:"ingressNamespace,omitempty"`
}

// Access lists who gets which Kalypso role in an environment.
// +kubebuilder:validation:XValidation:rule="!has(self.admins) || self.admins.all(s, !(s.name in ['system:anonymous', 'system:unauthenticated', 'system:authenticated', 'system:serviceaccounts']))",message="access.admins must not name everyone: system:anonymous, system:unauthenticated, system:authenticated and system:serviceaccounts are refused"
// +kubebuilder:validation:XValidation:rule="!has(self.editors) || self.editors.all(s, !(s.name in ['system:anonymous', 'system:unauthenticated', 'system:authenticated', 'system:serviceaccounts']))",message="access.editors must not name everyone: system:anonymous, system:unauthenticated, system:authenticated and system:serviceaccounts are refused"
// +kubebuilder:validation:XValidation:rule="!has(self.viewers) || self.viewers.all(s, !(s.name in ['system:anonymous', 'system:unauthenticated', 'system:authenticated', 'system:serviceaccounts']))",message="access.viewers must not name everyone: system:anonymous, system:unauthenticated, system:authenticated and system:serviceaccounts are refused"
type Access struct {
	// Admins get kalypso-serving-admin.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Admins []rbacv1.Subject `json:"admins,omitempty"`
	// Editors get kalypso-serving-editor.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Editors []rbacv1.Subject `json:"editors,omitempty"`
	// Viewers get kalypso-serving-viewer.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Viewers []rbacv1.Subject `json:"viewers,omitempty"`
}

// EnvironmentStatus is the observed state of one environment.
type EnvironmentStatus struct {
	// Name of the environment.
	Name string `json:"name"`
	// Namespace of the environment.
	Namespace string `json:"namespace"`
	// Ready is true when every governed object exists as specified.
	Ready bool `json:"ready"`
	// Reason is a CamelCase reason when not ready.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message explains the reason.
	// +optional
	Message string `json:"message,omitempty"`
}

// KalypsoProjectStatus is the observed state of a KalypsoProject.
type KalypsoProjectStatus struct {
	// ObservedGeneration is the generation last reconciled successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the conditions for printer columns.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Environments reports each environment.
	// +optional
	// +listType=map
	// +listMapKey=name
	Environments []EnvironmentStatus `json:"environments,omitempty"`

	// EnvironmentCount is the number of environments, for printer columns.
	// +optional
	EnvironmentCount int32 `json:"environmentCount,omitempty"`
}

// KalypsoProject is a tenant workspace whose environments are governed namespaces.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=kproj,categories=kalypso
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.spec.owner`
// +kubebuilder:printcolumn:name="Environments",type=integer,JSONPath=`.status.environmentCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.environments) || self.spec.environments.all(e, self.spec.environments.exists_one(o, (has(o.__namespace__) ? o.__namespace__ : self.metadata.name + '-' + o.name) == (has(e.__namespace__) ? e.__namespace__ : self.metadata.name + '-' + e.name)))",message="two environments of the project would share a namespace (an environment without one gets <project>-<name>)"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40",message="project name must be at most 40 characters so that <project>-<environment> fits a namespace name"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="project name must be a DNS label (lowercase letters, digits and -, no dots): <project>-<environment> names a namespace"
// +kubebuilder:validation:XValidation:rule="(self.metadata.name != 'kube' && !self.metadata.name.startsWith('kube-')) || !has(self.spec.environments) || self.spec.environments.all(e, has(e.__namespace__))",message="a project named kube or kube-* would place its environments in kube- system namespaces: give every environment a namespace, or rename the project"
type KalypsoProject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec KalypsoProjectSpec `json:"spec,omitempty"`
	// +optional
	Status KalypsoProjectStatus `json:"status,omitempty"`
}

// KalypsoProjectList contains a list of KalypsoProject.
// +kubebuilder:object:root=true
type KalypsoProjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalypsoProject `json:"items"`
}
