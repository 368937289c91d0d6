package dev.ferry.controller;

import dev.ferry.spi.AdoptionPreview;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.ProviderException;
import io.fabric8.kubernetes.api.model.Service;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Handing an existing load balancer to a Service ({@value #ADOPT}: the provider's id of it) without
 * surprises: Ferry reads it and shows what it would change, and changes it only once the Service
 * carries that preview's digest in {@value #CONFIRM}. A new preview (the load balancer or the
 * Service changed) has a new digest, so a confirmation never covers changes nobody saw.
 */
final class Adoptions {

  static final String ADOPT = Planner.ANNOTATION_PREFIX + "adopt";
  static final String CONFIRM = Planner.ANNOTATION_PREFIX + "adopt-confirm";

  /** What to do with a Service that asks to adopt. */
  sealed interface Gate permits Go, Wait {}

  /** Ensure with this plan (it carries the id). */
  record Go(LoadBalancerPlan plan) implements Gate {}

  /** Show the preview and wait for the confirmation. */
  record Wait(String message) implements Gate {}

  private Adoptions() {}

  /** The id the Service asks to adopt, or null. */
  static String idOf(Service service) {
    Map<String, String> a = service.getMetadata().getAnnotations();
    String id = a == null ? null : a.get(ADOPT);
    return id == null || id.isBlank() ? null : id.trim();
  }

  /**
   * @param served whether the Service has a load balancer of its own already (adopted earlier, or
   *     never needing it): then the plan goes ahead, carrying the id
   */
  static Gate check(
      Service service, LoadBalancerPlan plan, boolean served, GuardedProvider provider)
      throws ProviderException {
    String id = plan.adopt().orElseThrow();
    if (served) {
      return new Go(plan);
    }
    AdoptionPreview preview = provider.previewAdoption(plan, id);
    String digest = digest(id, preview);
    Map<String, String> a = service.getMetadata().getAnnotations();
    if (a != null && digest.equals(a.get(CONFIRM))) {
      return new Go(plan);
    }
    StringBuilder m =
        new StringBuilder("Ferry will adopt ")
            .append(id)
            .append(" (address ")
            .append(preview.address())
            .append(", kept) ");
    if (preview.changes().isEmpty()) {
      m.append("and change nothing of it");
    } else {
      m.append("and change: ").append(String.join("; ", preview.changes()));
    }
    m.append(". To go ahead, set ").append(CONFIRM).append(": \"").append(digest).append('"');
    return new Wait(m.toString());
  }

  /** The preview's digest: the first 16 hex digits of SHA-256 over the id, address and changes. */
  static String digest(String id, AdoptionPreview preview) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update((id + "\n" + preview.address() + "\n").getBytes(StandardCharsets.UTF_8));
      for (String c : preview.changes()) {
        sha.update((c + "\n").getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
