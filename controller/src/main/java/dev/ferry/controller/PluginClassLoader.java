package dev.ferry.controller;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Enumeration;
import java.util.List;

/**
 * The class loader of one plugin: its own jars first, so that a plugin's libraries never clash with
 * Ferry's (the convention of Kafka Connect's {@code plugin.path}); only the provider contract
 * ({@code dev.ferry.spi}), the JDK and the logging API come from Ferry, so that the plugin and the
 * controller share those types. Its service files are its own: a plugin never re-registers Ferry's
 * providers.
 */
final class PluginClassLoader extends URLClassLoader {

  private static final List<String> SHARED =
      List.of("dev.ferry.spi.", "java.", "javax.", "jdk.", "sun.", "com.sun.", "org.slf4j.");

  PluginClassLoader(String plugin, URL[] jars, ClassLoader ferry) {
    super("ferry-plugin-" + plugin, jars, ferry);
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (SHARED.stream().anyMatch(name::startsWith)) {
      return super.loadClass(name, resolve);
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        try {
          c = findClass(name);
        } catch (ClassNotFoundException e) {
          c = getParent().loadClass(name);
        }
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  @Override
  public URL getResource(String name) {
    URL own = findResource(name);
    return own != null ? own : super.getResource(name);
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    return name.startsWith("META-INF/services/") ? findResources(name) : super.getResources(name);
  }
}
