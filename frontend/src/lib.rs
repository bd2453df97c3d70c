//! The browser entry point: hydrates the server-rendered Teahouse app.
//! Built by cargo-leptos as a wasm cdylib; on other targets it is empty.

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `performance.mark(name)`: puts the start of hydration on the page's
    /// performance timeline, where benchmarks and real-user monitoring can
    /// split load time into download, compile and hydration.
    #[wasm_bindgen(js_namespace = performance, js_name = mark)]
    fn performance_mark(name: &str);
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    performance_mark("teahouse:hydrate-start");
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
