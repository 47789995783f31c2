// The event-data fragments: the library alone; each fragment includes its readers.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;
