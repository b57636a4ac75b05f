#include <cstdio>

int main() {
  std::printf("anser %s\n", ANSER_VERSION);
  return 0;
}
