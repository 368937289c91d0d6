package dev.ferry.examples.haproxy;

import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The provider's state: one HAProxy configuration file per Service under {@code services/}, each
 * written atomically, and beside it the digest of the files HAProxy last loaded. Nothing is kept in
 * memory: a restarted provider reads it all again.
 */
final class ConfigFiles {

  private final Path dir;

  ConfigFiles(Path dir) {
    this.dir = dir;
  }

  String loaded() throws ProviderException {
    Path marker = dir.resolveSibling("loaded");
    try {
      return Files.exists(marker) ? Files.readString(marker) : "";
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + marker + ": " + e, e);
    }
  }

  /** Records the files' digest as what HAProxy has loaded. */
  void writeLoaded() throws ProviderException {
    atomicWrite(dir.resolveSibling("loaded"), digest());
  }

  /** A digest of every file under services/, names and contents. */
  String digest() throws ProviderException {
    try (Stream<Path> files = Files.list(dir)) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Path f : files.filter(p -> p.toString().endsWith(".cfg")).sorted().toList()) {
        sha.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
        sha.update(Files.readAllBytes(f));
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + dir + ": " + e, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  Path file(LoadBalancerRef ref) {
    return dir.resolve(ServiceConfig.fileName(ref));
  }

  Optional<ServiceConfig> read(LoadBalancerRef ref) throws ProviderException {
    Path f = file(ref);
    try {
      if (!Files.exists(f)) {
        return Optional.empty();
      }
      // the file is named by UID; the ref inside must be this Service's in this cluster
      return ServiceConfig.parse(Files.readString(f)).filter(c -> c.ref().equals(ref));
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + f + ": " + e, e);
    }
  }

  List<ServiceConfig> all() throws ProviderException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<ServiceConfig> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".cfg")).sorted().toList()) {
        ServiceConfig.parse(Files.readString(f)).ifPresent(out::add);
      }
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot read " + dir + ": " + e, e);
    }
    return out;
  }

  void write(LoadBalancerRef ref, String content) throws ProviderException {
    atomicWrite(file(ref), content);
  }

  void restore(LoadBalancerRef ref, String before) {
    try {
      if (before == null) {
        Files.deleteIfExists(file(ref));
      } else {
        atomicWrite(file(ref), before);
      }
    } catch (IOException | ProviderException e) {
      // the next call for this Service tries again
    }
  }

  private static void atomicWrite(Path target, String content) throws ProviderException {
    try {
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
      Files.writeString(tmp, content);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new ProviderException.Transient("cannot write " + target + ": " + e, e);
    }
  }
}
