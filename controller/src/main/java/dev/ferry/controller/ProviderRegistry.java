package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.SpiVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The providers Ferry can run, by name: those on its class path (the in-tree ones), and the plugins
 * below each plugin directory, each loaded in a {@link PluginClassLoader} of its own. A plugin is a
 * directory of jars (or a single jar) directly below a plugin directory. Every provider declares
 * the contract version it was built for; one built for another is refused when it is selected, at
 * start-up, with both versions named.
 */
public final class ProviderRegistry {

  private static final Logger log = LoggerFactory.getLogger(ProviderRegistry.class);

  /** A provider found, where it came from, and the contract version it declares (null: none). */
  record Found(LoadBalancerProviderFactory factory, String origin, String spiVersion) {
    boolean compatible() {
      try {
        return spiVersion != null && SpiVersion.accepts(spiVersion);
      } catch (IllegalArgumentException e) {
        return false;
      }
    }
  }

  private final Map<String, Found> factories;

  private ProviderRegistry(Map<String, Found> factories) {
    this.factories = factories;
  }

  /** The providers on {@code loader}'s class path; two with one name fail with both named. */
  public static ProviderRegistry load(ClassLoader loader) {
    return load(loader, List.of());
  }

  /** The providers on {@code loader}'s class path and in the plugin directories. */
  public static ProviderRegistry load(ClassLoader loader, List<Path> pluginDirs) {
    Map<String, Found> found = new TreeMap<>();
    add(
        found,
        ServiceLoader.load(LoadBalancerProviderFactory.class, loader),
        "the class path",
        new URL[0]);
    for (Path dir : pluginDirs) {
      for (Path plugin : plugins(dir)) {
        URL[] jars = jars(plugin);
        ClassLoader pluginLoader =
            new PluginClassLoader(plugin.getFileName().toString(), jars, loader);
        add(
            found,
            ServiceLoader.load(LoadBalancerProviderFactory.class, pluginLoader),
            "plugin " + plugin,
            jars);
      }
    }
    found.values().stream()
        .filter(f -> !f.compatible())
        .forEach(
            f ->
                log.warn(
                    "provider '{}' from {} cannot run here: {}",
                    f.factory().name(),
                    f.origin(),
                    incompatibility(f)));
    return new ProviderRegistry(found);
  }

  private static void add(
      Map<String, Found> found,
      ServiceLoader<LoadBalancerProviderFactory> loader,
      String origin,
      URL[] jars) {
    Iterator<LoadBalancerProviderFactory> it = loader.iterator();
    while (true) {
      LoadBalancerProviderFactory f;
      try {
        if (!it.hasNext()) {
          break;
        }
        f = it.next();
      } catch (ServiceConfigurationError | LinkageError e) {
        throw new IllegalStateException(broken(origin, jars, e));
      }
      String version;
      try {
        version = f.spiVersion();
      } catch (AbstractMethodError e) {
        version = null; // compiled against a contract before 1.0, which had no version
      }
      Found clash = found.putIfAbsent(f.name(), new Found(f, origin, version));
      if (clash != null) {
        throw new IllegalStateException(
            "two providers are named '"
                + f.name()
                + "': "
                + clash.factory().getClass().getName()
                + " ("
                + clash.origin()
                + ") and "
                + f.getClass().getName()
                + " ("
                + origin
                + ")");
      }
    }
  }

  private static final String SERVICES =
      "META-INF/services/" + LoadBalancerProviderFactory.class.getName();
  private static final Pattern NAMED = Pattern.compile("Provider (\\S+) (?:not found|could not)");

  /**
   * One line for a plugin whose service file names a class that is not there (or cannot be made):
   * the plugin, the jar whose service file names it, the class, and what the JVM said.
   */
  static String broken(String origin, URL[] jars, Throwable e) {
    Matcher m = NAMED.matcher(String.valueOf(e.getMessage()));
    String cls = m.find() ? m.group(1) : null;
    String jar = null;
    for (URL url : jars) {
      try (JarFile file = new JarFile(Path.of(url.toURI()).toFile())) {
        JarEntry entry = file.getJarEntry(SERVICES);
        if (entry != null) {
          String listed = new String(file.getInputStream(entry).readAllBytes());
          if (cls == null || listed.contains(cls)) {
            jar = Path.of(url.toURI()).getFileName().toString();
            break;
          }
        }
      } catch (IOException | java.net.URISyntaxException ignored) {
        // named by what the JVM said, below
      }
    }
    String cause = e.getCause() == null ? e.getMessage() : e.getCause().toString();
    return origin
        + (jar == null ? "" : ": " + jar)
        + " lists "
        + (cls == null ? "a provider class" : "provider class " + cls)
        + " in "
        + SERVICES
        + ", which cannot be loaded ("
        + cause.replace('\n', ' ')
        + "); fix or remove the plugin";
  }

  /** The plugins below {@code dir}: each subdirectory, and each jar directly in it. */
  private static List<Path> plugins(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("plugin path " + dir + " is not a directory");
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries
          .filter(p -> Files.isDirectory(p) || p.toString().endsWith(".jar"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static URL[] jars(Path plugin) {
    List<URL> urls = new ArrayList<>();
    try (Stream<Path> files = Files.isDirectory(plugin) ? Files.walk(plugin) : Stream.of(plugin)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
        urls.add(p.toUri().toURL());
      }
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return urls.toArray(URL[]::new);
  }

  private static String incompatibility(Found f) {
    return f.spiVersion() == null
        ? "it was built for a provider contract before "
            + SpiVersion.CURRENT
            + " (it declares no spiVersion); this Ferry requires SPI "
            + SpiVersion.CURRENT
            + ": rebuild it against dev.ferry:ferry-provider-spi:"
            + SpiVersion.CURRENT
        : "it was built for SPI "
            + f.spiVersion()
            + "; this Ferry provides SPI "
            + SpiVersion.CURRENT
            + " (it runs providers built for "
            + SpiVersion.CURRENT.split("\\.")[0]
            + ".x up to "
            + SpiVersion.CURRENT
            + ")";
  }

  public List<String> names() {
    return List.copyOf(factories.keySet());
  }

  /**
   * The factory called {@code name}; an unknown name fails with the names found, an incompatible
   * one with both contract versions.
   */
  public LoadBalancerProviderFactory get(String name) {
    Found f = factories.get(name);
    if (f == null) {
      throw new IllegalArgumentException(
          "unknown provider '"
              + name
              + "'; providers found: "
              + (factories.isEmpty() ? "none" : String.join(", ", names())));
    }
    if (!f.compatible()) {
      throw new IllegalStateException(
          "provider '"
              + name
              + "' ("
              + f.factory().getClass().getName()
              + " from "
              + f.origin()
              + ") cannot run here: "
              + incompatibility(f));
    }
    log.info("provider '{}' (SPI {}) from {}", name, f.spiVersion(), f.origin());
    return f.factory();
  }
}
