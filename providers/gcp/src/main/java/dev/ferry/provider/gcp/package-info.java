/**
 * The GCP provider (regional external passthrough Network Load Balancers through Compute Engine):
 * in progress. So far: the deterministic names ({@link dev.ferry.provider.gcp.GcpNames}) and the
 * desired shape of a plan ({@link dev.ferry.provider.gcp.GcpShape}), and, in the test sources, the
 * faithful fake of the Compute API the provider's tests run against. The provider itself is not
 * written yet and is not offered to {@code --provider}.
 */
package dev.ferry.provider.gcp;
