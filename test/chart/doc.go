// Package chart tests the Helm chart in charts/kradius with the helm
// binary: helm lint, golden renders of the ci/ scenarios and their notes,
// the rendered objects (each kradius.yaml through the binary's own
// validation, every object through a real kube-apiserver's dry run), the
// schema's and the templates' refusals, the operator's RBAC against its
// markers, the copies the chart keeps of files made elsewhere, and the
// carrier example in deploy/carrier (its values, manifests and guide).
//
// helm comes from $KRADIUS_HELM, or else from `hack/cluster-assets.sh
// helm`, which builds it once from the Go module proxy; kube-apiserver and
// etcd from $KUBEBUILDER_ASSETS or `make envtest-assets`' cache. After a
// meant change to the chart, rewrite the golden files and the README's
// values table with
//
//	go test ./chart -run 'Golden|Notes|ValuesDocumented' -update
package chart
