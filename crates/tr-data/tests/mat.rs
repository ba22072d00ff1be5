//! MAT v5 round trips through the test writer: compressed and not, both byte
//! orders, nested structs, small elements; corrupt files give one-line errors.

mod common;

use common::mat_writer::{MatValue, MatWriter};
use common::write;
use tr_data::readers::{read_mat, take_variable, MatClass, MatData};

fn sample_vars() -> Vec<(&'static str, MatValue)> {
    vec![
        // 2×3 uint8, column-major: [[1, 2, 3], [4, 5, 6]].
        ("img", MatValue::U8(vec![2, 3], vec![1, 4, 2, 5, 3, 6])),
        ("x", MatValue::F64(vec![1, 3], vec![0.5, -2.0, 1e10])),
        (
            "s",
            MatValue::Struct(vec![
                (
                    "labels".to_string(),
                    MatValue::F64AsU8(vec![3, 1], vec![0.0, 61.0, 7.0]),
                ),
                (
                    "inner".to_string(),
                    MatValue::Struct(vec![(
                        "name".to_string(),
                        MatValue::Char("abc".to_string()),
                    )]),
                ),
            ]),
        ),
    ]
}

#[test]
fn round_trip_all_layouts() {
    let tmp = tempfile::tempdir().unwrap();
    for compress in [false, true] {
        for big_endian in [false, true] {
            let path = tmp.path().join(format!("t-{compress}-{big_endian}.mat"));
            write(
                &path,
                &MatWriter {
                    big_endian,
                    compress,
                }
                .file(&sample_vars()),
            );
            let vars = read_mat(&path).unwrap();
            assert_eq!(vars.len(), 3, "compress={compress} be={big_endian}");

            let img = &vars[0];
            assert_eq!(img.name, "img");
            assert_eq!(img.class, MatClass::Uint8);
            assert_eq!(img.dims, vec![2, 3]);
            assert_eq!(img.as_u8().unwrap(), &[1, 4, 2, 5, 3, 6]);

            let x = &vars[1];
            assert_eq!(x.class, MatClass::Double);
            assert_eq!(x.to_f64().unwrap(), vec![0.5, -2.0, 1e10]);

            let s = take_variable(vars.clone(), "s", &path).unwrap();
            assert_eq!(s.class, MatClass::Struct);
            let labels = s.field("labels").unwrap();
            // Stored as miUINT8 but of class double: widened.
            assert_eq!(labels.class, MatClass::Double);
            assert_eq!(labels.dims, vec![3, 1]);
            assert_eq!(labels.to_f64().unwrap(), vec![0.0, 61.0, 7.0]);
            let name = s.field("inner").unwrap().field("name").unwrap();
            assert_eq!(name.data, MatData::Char("abc".to_string()));
            assert!(s.field("missing").is_none());
        }
    }
}

#[test]
fn missing_variable_lists_what_the_file_has() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("v.mat");
    write(
        &path,
        &MatWriter {
            big_endian: false,
            compress: true,
        }
        .file(&sample_vars()),
    );
    let err = take_variable(read_mat(&path).unwrap(), "dataset", &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("v.mat") && err.contains("\"dataset\"") && err.contains("img, x, s"),
        "{err}"
    );
}

#[test]
fn corrupt_files_are_one_line_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.mat");
    let good = MatWriter {
        big_endian: false,
        compress: false,
    }
    .file(&sample_vars());

    write(&path, &good[..good.len() - 20]);
    let err = read_mat(&path).unwrap_err().to_string();
    assert!(
        err.contains("bad.mat") && err.contains("truncated"),
        "{err}"
    );
    assert!(!err.contains('\n'));

    let packed = MatWriter {
        big_endian: false,
        compress: true,
    }
    .file(&sample_vars());
    let mut flipped = packed.clone();
    for b in &mut flipped[140..160] {
        *b ^= 0x5a;
    }
    write(&path, &flipped);
    let err = read_mat(&path).unwrap_err().to_string();
    assert!(err.contains("bad.mat"), "{err}");

    write(&path, &good[..64]);
    let err = read_mat(&path).unwrap_err().to_string();
    assert!(err.contains("128-byte header"), "{err}");

    let mut v73 = good.clone();
    v73[..19].copy_from_slice(b"MATLAB 7.3 MAT-file");
    write(&path, &v73);
    let err = read_mat(&path).unwrap_err().to_string();
    assert!(err.contains("v7.3"), "{err}");

    let mut no_endian = good;
    no_endian[126..128].copy_from_slice(b"XX");
    write(&path, &no_endian);
    let err = read_mat(&path).unwrap_err().to_string();
    assert!(err.contains("endian indicator"), "{err}");
}
