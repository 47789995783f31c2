// A fragment that defines its own network and model and needs only an image to classify.
#include <snn2ann/snn2ann.hpp>
namespace s = snn2ann;

inline const float* image = nullptr;
