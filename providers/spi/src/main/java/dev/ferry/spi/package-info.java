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
 * <p>How the controller calls a provider, which the rules above rely on:
 *
 * <ul>
 *   <li><b>Concurrency.</b> Calls for different Services may run at the same time, from several
 *       threads; two calls for the same Service never do. {@code inStep} only reads and may overlap
 *       with other calls; {@code listOwned} may run at any time.
 *   <li><b>Deadlines.</b> Every call has a deadline ({@code --provider-timeout}, 3 minutes by
 *       default). A call that overruns it is interrupted and abandoned; no other call for that
 *       Service is made until it returns, and then {@code ensure} runs again. Honour interrupts
 *       where the cloud client allows, and keep every step idempotent, so that the repeat
 *       converges.
 *   <li><b>No address yet.</b> When the cloud has not assigned an address, return a status whose
 *       {@code ingress} is empty: the controller asks again with {@code find}, with backoff, and
 *       publishes the address when it comes. An {@code ipMode} goes only with an IP.
 *   <li><b>Changes the cloud cannot make in place</b> (a scheme, a subnet that is fixed at
 *       creation): either replace (make the new resource, move to it, then delete the old, each
 *       step idempotent) or refuse with {@link dev.ferry.spi.ProviderException.InvalidPlan} naming
 *       the field and what to do; never leave a half-made resource.
 *   <li><b>Errors.</b> {@link dev.ferry.spi.ProviderException.InvalidPlan} means the user must
 *       change the Service: it gets a Warning and waits for a change (no retry). Anything an
 *       operator fixes outside the Service (a resource not found, permission denied, untagged
 *       subnets) is {@link dev.ferry.spi.ProviderException.Transient}: a Warning, then retries with
 *       backoff until it passes; so is a passing failure. {@link
 *       dev.ferry.spi.ProviderException.QuotaExceeded} names the limit and is retried likewise;
 *       {@link dev.ferry.spi.ProviderException.Throttled} is retried when the cloud asked. Anything
 *       else thrown (a bug, an {@code Error}) is treated as transient and reported; a cleanup is
 *       retried whatever failed.
 * </ul>
 *
 * <p>How the contract grows: {@link dev.ferry.spi.LoadBalancerPlan}, {@link
 * dev.ferry.spi.Capabilities} and {@link dev.ferry.spi.ProviderContext} are made with builders, so
 * a field or capability added in a later 1.x version gets a default and a compiled provider keeps
 * running; what a provider does not declare in its capabilities is taken as not supported. A
 * provider declares the version it was built for ({@link dev.ferry.spi.SpiVersion}); the controller
 * refuses another major version, or a newer minor one, at start-up.
 *
 * <p>What a provider gets instead of globals: its settings, the cluster name, an events sink
 * (Warnings on the Service) and a metrics hook ({@link dev.ferry.spi.ProviderMetrics}, published as
 * {@code ferry_provider_*} labelled with the provider), all in its {@link
 * dev.ferry.spi.ProviderContext}.
 *
 * <p>This package depends on the JDK only; the build fails if a library is added.
 */
package dev.ferry.spi;
