//! The browser entry point: hydrates the server-rendered Teahouse app.
//! Built by cargo-leptos as a wasm cdylib; on other targets it is empty.

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
