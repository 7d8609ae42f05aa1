// Runs an ONNX file exported by `syncbn-engine export` with OpenCV DNN (Debian's OpenCV 4.6):
// letterbox, forward, decode output0 [1, 4 + nc, anchors], NMS, boxes back in image pixels.
// Build: g++ onnx_opencv_dnn.cpp $(pkg-config --cflags --libs opencv4)
// Usage: onnx_opencv_dnn best.onnx image.jpg [imgsz]
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) return std::cerr << "usage: " << argv[0] << " MODEL.onnx IMAGE [IMGSZ]\n", 2;
  const int size = argc > 3 ? std::atoi(argv[3]) : 640;
  cv::dnn::Net net = cv::dnn::readNetFromONNX(argv[1]);
  const cv::Mat image = cv::imread(argv[2]);
  // Letterbox as the engine does: scale to fit, pad with grey 114 to size x size, centred.
  const double r = std::min(double(size) / image.cols, double(size) / image.rows);
  const int w = int(std::round(image.cols * r)), h = int(std::round(image.rows * r));
  const int left = int(std::round((size - w) / 2.0 - 0.1)), top = int(std::round((size - h) / 2.0 - 0.1));
  cv::Mat resized, boxed;
  cv::resize(image, resized, {w, h}, 0, 0, cv::INTER_LINEAR);
  cv::copyMakeBorder(resized, boxed, top, size - h - top, left, size - w - left,
                     cv::BORDER_CONSTANT, cv::Scalar(114, 114, 114));
  net.setInput(cv::dnn::blobFromImage(boxed, 1 / 255.0, {}, {}, /*swapRB=*/true), "images");
  cv::Mat out = net.forward("output0");                     // [1, 4 + nc, A]
  const cv::Mat rows = cv::Mat(out.size[1], out.size[2], CV_32F, out.ptr<float>()).t();  // [A, 4 + nc]
  std::vector<cv::Rect2d> boxes; std::vector<float> scores; std::vector<int> classes;
  for (int a = 0; a < rows.rows; ++a) {
    const cv::Mat classScores = rows.row(a).colRange(4, rows.cols);
    cv::Point best; double score; cv::minMaxLoc(classScores, nullptr, &score, nullptr, &best);
    if (score < 0.25) continue;
    const float* b = rows.ptr<float>(a);                    // cx, cy, w, h in input pixels
    boxes.emplace_back((b[0] - b[2] / 2 - left) / r, (b[1] - b[3] / 2 - top) / r, b[2] / r, b[3] / r);
    scores.push_back(float(score)); classes.push_back(best.x);
  }
  // Per-class NMS (OpenCV 4.6 has no NMSBoxesBatched): boxes of each class offset apart.
  std::vector<cv::Rect2d> shifted;
  for (std::size_t i = 0; i < boxes.size(); ++i) shifted.push_back(boxes[i] + cv::Point2d(7680.0 * classes[i], 0));
  std::vector<int> keep;
  cv::dnn::NMSBoxes(shifted, scores, 0.25f, 0.7f, keep);
  for (const int i : keep) {
    const cv::Rect2d box = boxes[i] & cv::Rect2d(0, 0, image.cols, image.rows);  // inside the image
    std::cout << classes[i] << ' ' << scores[i] << ' ' << box.x << ' ' << box.y << ' '
              << box.x + box.width << ' ' << box.y + box.height << '\n';
  }
}
