/**
 * The contract between Ferry's controller and a cloud provider adapter.
 *
 * <p>A provider turns a {@link dev.ferry.spi.LoadBalancerPlan} into a real external load balancer.
 * The rules every implementation follows:
 *
 * <ul>
 *   <li><b>Idempotent.</b> Every call may be repeated with the same input and converges to the same
 *       cloud state; calling {@code ensure} twice makes one load balancer.
 *   <li><b>Inputs are read-only.</b> Plans, refs and lists passed in are never modified.
 *   <li><b>Crash-safe.</b> The process may die after any cloud call. A new provider instance, given
 *       the same plan, finds what the old one made (by tags and deterministic names, never by
 *       memory) and finishes the job without duplicating anything.
 *   <li><b>Deleting the absent succeeds.</b> {@code ensureDeleted} of a load balancer that does not
 *       exist, or was half made, returns normally once nothing of it remains.
 *   <li><b>Only what it owns.</b> A provider never modifies or deletes a resource it did not tag as
 *       owned by this cluster and Service.
 *   <li><b>Errors are typed.</b> Failures are thrown as a {@link dev.ferry.spi.ProviderException}
 *       subtype, which tells the controller whether to warn the user, wait, or back off.
 * </ul>
 *
 * <p>This package depends on the JDK only; the build fails if a library is added.
 */
package dev.ferry.spi;
