package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StorageType is the kind of object store holding an application's models.
// +kubebuilder:validation:Enum=s3;gcs;azure
type StorageType string

const (
	StorageS3    StorageType = "s3"
	StorageGCS   StorageType = "gcs"
	StorageAzure StorageType = "azure"
)

// Keys read from an Application's storage Secret, by storage type. Only these
// keys are referenced (by name, through secretKeyRef); values are never read
// into the operator's memory, status or logs.
const (
	SecretKeyAWSAccessKeyID     = "AWS_ACCESS_KEY_ID"
	SecretKeyAWSSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	SecretKeyAWSSessionToken    = "AWS_SESSION_TOKEN"
	SecretKeyGCSCredentials     = "GOOGLE_APPLICATION_CREDENTIALS_JSON"
	SecretKeyAzureAccount       = "AZURE_STORAGE_ACCOUNT"
	SecretKeyAzureKey           = "AZURE_STORAGE_KEY"
)

// KalypsoApplicationSpec defines what an application's servers share.
type KalypsoApplicationSpec struct {
	// ProjectRef names the KalypsoProject. When set it must match the
	// project label of the Application's namespace; when empty the
	// namespace's project is used, and outside any project the
	// Application works standalone.
	// +optional
	ProjectRef *LocalObjectReference `json:"projectRef,omitempty"`

	// Description of the application.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Description string `json:"description,omitempty"`

	// Source records where the models come from. Informational.
	// +optional
	Source *Source `json:"source,omitempty"`

	// Storage holds the model store settings shared by the servers.
	// +optional
	Storage *Storage `json:"storage,omitempty"`
}

// Source records the application's source repository and build workflow.
type Source struct {
	// GitRepository URL.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[A-Za-z][A-Za-z0-9+.-]*://[^/]*@')",message="source.gitRepository must not embed credentials (user:token@host); use the build system's own secret"
	GitRepository string `json:"gitRepository,omitempty"`
	// Branch in the repository.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Branch string `json:"branch,omitempty"`
	// BuildWorkflow that produces the models.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	BuildWorkflow string `json:"buildWorkflow,omitempty"`
}

// Storage configures access to the object store holding the model repository.
// +kubebuilder:validation:XValidation:rule="!has(self.endpoint) || !has(self.type) || self.type == 's3'",message="storage.endpoint is an S3-compatible endpoint; Triton ignores it for gcs and azure"
// +kubebuilder:validation:XValidation:rule="!has(self.region) || !has(self.type) || self.type == 's3'",message="storage.region is an S3 setting; Triton ignores it for gcs and azure"
type Storage struct {
	// Type of store. When empty it is inferred from the servers' storageUri
	// schemes (s3://, gs://, as://).
	// +optional
	Type StorageType `json:"type,omitempty"`

	// SecretRef names a Secret in the Application's namespace holding the
	// credentials (keys per type: s3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
	// and optionally AWS_SESSION_TOKEN; gcs: GOOGLE_APPLICATION_CREDENTIALS_JSON;
	// azure: AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY). Without it, servers use
	// workload identity through their service account.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// Region of the bucket (S3).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[a-z0-9-]+$`
	Region string `json:"region,omitempty"`

	// Endpoint of an S3-compatible store (MinIO, Ceph, ...), as
	// http://host:port or https://host:port. The scheme sets TLS on or off.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[A-Za-z0-9.-]+(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?/?$')",message="storage.endpoint must be http(s)://host[:port] with a port up to 65535, no path and no credentials"
	Endpoint string `json:"endpoint,omitempty"`
}

// MaxServerSummaries bounds KalypsoApplicationStatus.ServerSummaries so that
// an application with many servers keeps a small status. It must match the
// MaxItems marker on that field.
const MaxServerSummaries = 20

// ServerSummary is one KalypsoTritonServer as seen by its Application.
type ServerSummary struct {
	// Name of the KalypsoTritonServer.
	Name string `json:"name"`
	// Ready mirrors the server's Ready condition.
	Ready bool `json:"ready"`
	// Endpoint is the server's in-cluster HTTP endpoint.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
}

// ModelSummary is one model across the Application's servers.
type ModelSummary struct {
	// Name of the model.
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name"`
	// Servers that list the model in their status.
	Servers int32 `json:"servers"`
	// ReadyServers are those of them that are Ready and serve the model on
	// every ready replica.
	ReadyServers int32 `json:"readyServers"`
}

// KalypsoApplicationStatus is the observed state of a KalypsoApplication.
type KalypsoApplicationStatus struct {
	// ObservedGeneration is the generation last reconciled successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the conditions for printer columns.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, StorageReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Project the application belongs to, if any.
	// +optional
	Project string `json:"project,omitempty"`

	// StorageType in use (explicit or inferred).
	// +optional
	StorageType StorageType `json:"storageType,omitempty"`

	// Servers is the number of KalypsoTritonServers of the application.
	// +optional
	Servers int32 `json:"servers"`

	// ReadyServers is the number of those that are Ready.
	// +optional
	ReadyServers int32 `json:"readyServers"`

	// ServerSummaries lists at most 20 of the servers: those not Ready first,
	// then the Ready ones, each group sorted by name. Servers and ReadyServers
	// count all of them; OmittedServers says how many are not listed.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	ServerSummaries []ServerSummary `json:"serverSummaries,omitempty"`

	// OmittedServers is the number of servers left out of ServerSummaries
	// because of its 20-entry bound (Servers minus the entries listed); zero
	// or absent when every server is listed.
	// +optional
	// +kubebuilder:validation:Minimum=0
	OmittedServers int32 `json:"omittedServers,omitempty"`

	// Models is the number of distinct models the servers report.
	// +optional
	Models int32 `json:"models"`

	// ReadyModels is the number of those served by at least one Ready server.
	// +optional
	ReadyModels int32 `json:"readyModels"`

	// ModelSummaries lists at most 20 models: those no Ready server serves
	// first, then by name. OmittedModels says how many are not listed.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	ModelSummaries []ModelSummary `json:"modelSummaries,omitempty"`

	// OmittedModels is the number of models left out of ModelSummaries.
	// +optional
	// +kubebuilder:validation:Minimum=0
	OmittedModels int32 `json:"omittedModels,omitempty"`
}

// KalypsoApplication groups the Triton servers of one application and holds
// what they share.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kapp,categories=kalypso
// +kubebuilder:printcolumn:name="Project",type=string,JSONPath=`.status.project`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Servers",type=integer,JSONPath=`.status.servers`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyServers`
// +kubebuilder:printcolumn:name="Models",type=integer,JSONPath=`.status.models`
// +kubebuilder:printcolumn:name="Models Ready",type=integer,JSONPath=`.status.readyModels`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="application name must be at most 63 characters (it is used as a label value)"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="application name must be a DNS label (lowercase letters, digits and -, no dots): it names routes and labels"
type KalypsoApplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec KalypsoApplicationSpec `json:"spec,omitempty"`
	// +optional
	Status KalypsoApplicationStatus `json:"status,omitempty"`
}

// KalypsoApplicationList contains a list of KalypsoApplication.
// +kubebuilder:object:root=true
type KalypsoApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalypsoApplication `json:"items"`
}
