package v1alpha1

// Affinity of a KalypsoTritonServer's pods: the shape of core/v1 Affinity,
// bounded and validated so that what admission accepts the Deployment
// accepts too.

// Affinity is a core/v1 Affinity.
type Affinity struct {
	// NodeAffinity places the pods on nodes.
	// +optional
	NodeAffinity *NodeAffinity `json:"nodeAffinity,omitempty"`
	// PodAffinity places the pods near other pods.
	// +optional
	PodAffinity *PodAffinity `json:"podAffinity,omitempty"`
	// PodAntiAffinity keeps the pods away from other pods.
	// +optional
	PodAntiAffinity *PodAffinity `json:"podAntiAffinity,omitempty"`
}

// NodeAffinity is a core/v1 NodeAffinity.
type NodeAffinity struct {
	// Required node selector terms (any term may match).
	// +optional
	Required *NodeSelector `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	// Preferred weighted terms.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Preferred []PreferredSchedulingTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// NodeSelector is a list of node selector terms, any of which may match.
type NodeSelector struct {
	// NodeSelectorTerms of the selector.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	NodeSelectorTerms []NodeSelectorTerm `json:"nodeSelectorTerms"`
}

// NodeSelectorTerm requires all of its expressions and fields.
type NodeSelectorTerm struct {
	// MatchExpressions on node labels.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	MatchExpressions []NodeSelectorRequirement `json:"matchExpressions,omitempty"`
	// MatchFields on node fields: metadata.name only.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=4
	// +kubebuilder:validation:XValidation:rule="self.all(f, f.key == 'metadata.name' && f.operator in ['In', 'NotIn'] && has(f.values) && size(f.values) == 1)",message="matchFields: key metadata.name, operator In or NotIn, exactly one value"
	MatchFields []NodeSelectorRequirement `json:"matchFields,omitempty"`
}

// NodeSelectorRequirement is a core/v1 NodeSelectorRequirement.
// +kubebuilder:validation:XValidation:rule="self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : (self.operator in ['Gt', 'Lt'] ? has(self.values) && size(self.values) == 1 && self.values[0].matches('^-?[0-9]{1,18}$') : !has(self.values) || size(self.values) == 0)",message="operators In and NotIn need values, Gt and Lt exactly one integer, Exists and DoesNotExist none"
type NodeSelectorRequirement struct {
	// Key of the node label (or field).
	// +required
	// +kubebuilder:validation:MinLength=1
	Key LabelKey `json:"key"`
	// Operator: In, NotIn, Exists, DoesNotExist, Gt or Lt.
	// +required
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist;Gt;Lt
	Operator string `json:"operator"`
	// Values of the requirement.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Values []LabelValue `json:"values,omitempty"`
}

// PreferredSchedulingTerm is a weighted node selector term.
type PreferredSchedulingTerm struct {
	// Weight from 1 to 100.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Weight int32 `json:"weight"`
	// Preference is the term.
	// +required
	Preference NodeSelectorTerm `json:"preference"`
}

// PodAffinity is a core/v1 PodAffinity (or PodAntiAffinity).
type PodAffinity struct {
	// Required terms.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Required []PodAffinityTerm `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	// Preferred weighted terms.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Preferred []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PodAffinityTerm is a core/v1 PodAffinityTerm.
type PodAffinityTerm struct {
	// LabelSelector of the other pods.
	// +optional
	LabelSelector *LabelSelector `json:"labelSelector,omitempty"`
	// Namespaces of the other pods (default: the server's).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespaces []string `json:"namespaces,omitempty"`
	// NamespaceSelector of the other pods' namespaces.
	// +optional
	NamespaceSelector *LabelSelector `json:"namespaceSelector,omitempty"`
	// TopologyKey is the node label that defines "near".
	// +required
	// +kubebuilder:validation:MinLength=1
	TopologyKey LabelKey `json:"topologyKey"`
}

// WeightedPodAffinityTerm is a weighted pod affinity term.
type WeightedPodAffinityTerm struct {
	// Weight from 1 to 100.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Weight int32 `json:"weight"`
	// PodAffinityTerm is the term.
	// +required
	PodAffinityTerm PodAffinityTerm `json:"podAffinityTerm"`
}
