package dev.ferry.spi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Help for deterministic cloud resource names, which the contract asks for: a provider finds what
 * it made by names derived from the cluster and the Service UID, never by memory.
 */
public final class ResourceNames {

  private ResourceNames() {}

  /** The SHA-256 of {@code text} in lowercase hex (64 characters); cut it to the cloud's limit. */
  public static String hash(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
