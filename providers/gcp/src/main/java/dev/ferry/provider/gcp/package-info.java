/**
 * The GCP provider (regional external passthrough Network Load Balancers through Compute Engine):
 * in progress. So far this module holds the faithful fake of the Compute API its tests run against
 * (in the test sources); the provider itself is not written yet and is not offered to {@code
 * --provider}.
 */
package dev.ferry.provider.gcp;
